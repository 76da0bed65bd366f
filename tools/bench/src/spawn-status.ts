/** corral-spawn's report on its status fd: "pid <pid>", … "exit <code|-1> <signal|0> <user-us> <sys-us> <maxrss-kb>". */
export interface SpawnExit {
  exitCode: number | null;
  signal: number | null;
  /** user + system CPU of the whole process, every thread, in ms (from wait4). */
  cpuMs: number;
  maxRssKb: number;
}

/** The exit line of a status report (other lines, such as "pid" or "cgroup", are skipped). @throws when there is none */
export function parseSpawnStatus(text: string): SpawnExit {
  const line = text.split('\n').find((l) => l.startsWith('exit '));
  if (!line) {
    const error = text.split('\n').find((l) => l.startsWith('error '));
    throw new Error(error ? `corral-spawn: ${error.slice(6)}` : `no exit line in corral-spawn's report: ${JSON.stringify(text.slice(0, 200))}`);
  }
  const [code, signal, userUs, sysUs, maxRssKb] = line.split(' ').slice(1).map(Number) as number[];
  if ([code, signal, userUs, sysUs, maxRssKb].some((v) => v === undefined || Number.isNaN(v))) throw new Error(`malformed exit line: ${line}`);
  return {
    exitCode: (code as number) < 0 ? null : (code as number),
    signal: signal === 0 ? null : (signal as number),
    cpuMs: ((userUs as number) + (sysUs as number)) / 1000,
    maxRssKb: maxRssKb as number,
  };
}
