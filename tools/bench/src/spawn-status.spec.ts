import { parseSpawnStatus } from './spawn-status';

describe('parseSpawnStatus', () => {
  it('reads the exit line, skipping pid and cgroup lines', () => {
    expect(parseSpawnStatus('pid 4242\ncgroup cpuNs 1\nexit 0 0 31000 9500 41234\n')).toEqual({ exitCode: 0, signal: null, cpuMs: 40.5, maxRssKb: 41_234 });
  });

  it('reads a death by signal', () => {
    expect(parseSpawnStatus('pid 1\nexit -1 9 1000 0 100\n')).toMatchObject({ exitCode: null, signal: 9 });
  });

  it('says why when the program could not be started', () => {
    expect(() => parseSpawnStatus('error execv: No such file or directory\n')).toThrow('corral-spawn: execv: No such file or directory');
    expect(() => parseSpawnStatus('pid 1\n')).toThrow(/no exit line/);
    expect(() => parseSpawnStatus('exit 0 0 x 1 2\n')).toThrow(/malformed/);
  });
});
