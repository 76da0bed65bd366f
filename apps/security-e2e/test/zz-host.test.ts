import { readFileSync } from 'node:fs';
import { canaryAlive, hashWatchedFiles, newEntries, pathsNamed, suiteState } from './host';

/**
 * The host after every hostile program of the suite has run (the sequencer runs this file last;
 * every other file has already checked that its own stack came back healthy).
 */
const state = suiteState();

describe('the host after the whole suite', () => {
  it('the canary process (sleep 600) was never signalled', () => {
    expect(canaryAlive(state.canaryPid)).toBe(true);
  });

  it('no secret was read: the canary secrets appear in no output of any execution', () => {
    const lines = readFileSync(state.outputLog, 'utf8').split('\n').filter(Boolean);
    expect(lines.length).toBeGreaterThan(0);
    const leaks = lines
      .map((line) => JSON.parse(line) as { test: string; output: string })
      .filter(({ output }) => output.includes(state.secret) || output.includes(state.dbSecret))
      .map(({ test }) => test);
    expect(leaks).toEqual([]);
  });

  it('no file was written outside the sandbox: nothing new in the repo root or the bootstrap folder, nothing of a sandbox in /tmp, /var/tmp, /dev/shm', () => {
    expect(pathsNamed(state.runId)).toEqual([]);
    const { written, unattributed } = newEntries(state.before);
    if (unattributed.length > 0) console.warn(`new in the shared temporary folders, not by this suite's programs:\n${unattributed.join('\n')}`);
    expect(written).toEqual([]);
  });

  it('the bootstrap and the sandbox runtime are unchanged', () => {
    expect(hashWatchedFiles()).toEqual(state.hashes);
  });
});
