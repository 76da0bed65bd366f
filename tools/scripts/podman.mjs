// How image.mjs and image-run.mjs call podman. runc, not Debian 12's crun: crun refuses hosts
// whose cgroups are a v1 + v2 hybrid ("cgroups in hybrid mode not supported"), which cgroup v1
// hosts like the one corral is tested on are. Explicit rlimits no higher than this process's:
// podman's defaults (1048576 descriptors) cannot be set where the launcher lacks
// CAP_SYS_RESOURCE, and the container init fails.
import { readFileSync } from 'node:fs';

export const PODMAN_GLOBAL = ['--runtime', 'runc'];

function hostLimit(name, fallback) {
  const line = readFileSync('/proc/self/limits', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(name));
  const soft = line?.slice(26).trim().split(/\s+/)[0];
  return soft && soft !== 'unlimited' ? Number(soft) : fallback;
}

/** --ulimit options for `podman run` and `podman build`. */
export function podmanUlimits() {
  const files = Math.min(hostLimit('Max open files', 65536), 65536);
  const processes = Math.min(hostLimit('Max processes', 32768), 32768);
  return ['--ulimit', `nofile=${files}:${files}`, '--ulimit', `nproc=${processes}:${processes}`];
}
