import { setFlagsFromString } from 'node:v8';

/**
 * The watchdog is small and long-lived, and its resident memory is a target (≤ 60 MiB). V8's
 * default heap growth keeps the start-up garbage resident for seconds or, while the watchdog is
 * busy sampling, indefinitely (53–64 MiB measured); sizing the heap for memory instead keeps it
 * near 51 MiB from the start, of which a bare Node 20 is 39. Imported first by main.ts, before
 * anything is loaded. (`--optimize-for-size` is not accepted in NODE_OPTIONS.)
 */
setFlagsFromString('--optimize-for-size');
