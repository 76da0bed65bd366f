import { readFileSync, rmSync } from 'node:fs';
import { canaryAlive, pathsNamed, STATE_ENV, type SuiteState } from './host';

/** Removes what the global setup made, and whatever a hostile program managed to leave. */
export default async function globalTeardown(): Promise<void> {
  const path = process.env[STATE_ENV];
  if (!path) return;
  let state: SuiteState;
  try {
    state = JSON.parse(readFileSync(path, 'utf8')) as SuiteState;
  } catch {
    return;
  }
  if (canaryAlive(state.canaryPid)) process.kill(state.canaryPid, 'SIGKILL');
  // Files named by hostile programs (zz-host.test.ts has already reported any).
  for (const leftover of pathsNamed(state.runId)) rmSync(leftover, { recursive: true, force: true });
  rmSync(state.dir, { recursive: true, force: true });
  delete process.env[STATE_ENV];
}
