#!/bin/sh
# The image's entrypoint (under tini): `corral router|worker|watchdog|netprov [args]` runs that
# app on the pinned Node 24, exec'd, so that the SIGTERM tini passes on reaches it directly.
set -eu
app="${1:-router}"
case "$app" in
  router | worker | watchdog | netprov) shift ;;
  *)
    echo "corral: unknown app '$app' (router, worker, watchdog or netprov)" >&2
    exit 2
    ;;
esac
exec /usr/local/bin/node "/opt/corral/apps/$app/dist/main.js" "$@"
