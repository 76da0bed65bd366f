import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Runs `tick` until `signal` aborts, waiting `intervalMs` after each tick ends (a slow tick
 * delays the next one instead of piling ticks up, as setInterval would). An error in one tick
 * is handed to `onError` and the loop goes on.
 */
export async function runLoop(
  intervalMs: number,
  signal: AbortSignal,
  tick: () => Promise<void>,
  onError: (err: unknown) => void,
): Promise<void> {
  while (!signal.aborted) {
    try {
      await tick();
    } catch (err) {
      onError(err);
    }
    try {
      await sleep(intervalMs, undefined, { signal });
    } catch {
      // aborted while waiting
    }
  }
}
