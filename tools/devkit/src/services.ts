import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { once } from 'node:events';

/** The repository root (tools/devkit/{src,dist}/ → ../../..). */
export const REPO_ROOT = join(__dirname, '..', '..', '..');

export const SERVICES = ['netprov', 'worker', 'watchdog', 'router'] as const;
export type ServiceName = (typeof SERVICES)[number];

/** The built entry point of an app (run `npm run build` first). */
export function serviceEntry(name: ServiceName): string {
  return join(REPO_ROOT, 'apps', name, 'dist', 'main.js');
}

/** util-linux's setpriv, when installed (tools/scripts/system.mjs installs it). */
const SETPRIV = (process.env['PATH'] ?? '/usr/bin:/bin')
  .split(delimiter)
  .map((dir) => join(dir, 'setpriv'))
  .find((path) => {
    try {
      accessSync(path, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });

/**
 * Spawns a process that the kernel kills when this one dies, however it dies (SIGKILL too):
 * setpriv sets PR_SET_PDEATHSIG and then becomes the program. Without setpriv, only the exit
 * hook below stands behind it, which a SIGKILL skips.
 */
export function spawnTied(command: string, args: readonly string[], options: SpawnOptions): ChildProcess {
  const child = SETPRIV ? spawn(SETPRIV, ['--pdeathsig', 'SIGKILL', '--', command, ...args], options) : spawn(command, args, options);
  killOnExit(child);
  return child;
}

const children = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Children in groups of their own do not see the launcher die: take them down when it exits. */
export function killOnExit(child: ChildProcess): void {
  children.add(child);
  child.once('exit', () => children.delete(child));
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const c of children) c.kill('SIGKILL');
  });
}

export interface ServiceProcess {
  name: string;
  child: ChildProcess;
  /** Resolves with the exit code (or the signal name) when the process has ended. */
  exited: Promise<number | string>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when it has ended. */
  stop(graceMs?: number): Promise<number | string>;
}

export type Output = 'inherit' | 'ignore' | ((line: string) => void);

/**
 * The one supervisor of the test tooling: starts `argv` as a long-running process in a group of
 * its own (Ctrl-C reaches the launcher alone, which stops its children in order), tied to this
 * process's life, each line of its output going to `output`. `stop` sends SIGTERM, then SIGKILL
 * to its whole group after the grace.
 */
export function startProcess(name: string, argv: readonly string[], env: NodeJS.ProcessEnv, output: Output): ServiceProcess {
  const [command, ...args] = argv as [string, ...string[]];
  const piped = typeof output === 'function';
  const child = spawnTied(command, args, { env, stdio: ['ignore', piped ? 'pipe' : output, piped ? 'pipe' : output], detached: true });
  if (typeof output === 'function') {
    for (const stream of [child.stdout, child.stderr]) {
      let rest = '';
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
        const lines = (rest + chunk).split('\n');
        rest = lines.pop() ?? '';
        for (const line of lines) output(line);
      });
      stream?.on('end', () => rest && output(rest));
    }
  }
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'));
    child.once('error', (err) => resolve(err.message));
  });
  const killGroup = (): void => {
    try {
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
    } catch {
      child.kill('SIGKILL'); // not a group leader after all, or gone
    }
  };
  return {
    name,
    child,
    exited,
    async stop(graceMs = 15_000) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(killGroup, graceMs);
        await exited;
        clearTimeout(timer);
      }
      return exited;
    },
  };
}

/** Starts a corral service as its own process (as it would be deployed), its output going to `output`. */
export function startService(name: ServiceName, args: readonly string[], env: NodeJS.ProcessEnv, output: Output): ServiceProcess {
  return startProcess(name, [process.execPath, serviceEntry(name), ...args], env, output);
}

/** Runs a service to completion (netprov commands); rejects with its output when it fails. */
export async function runToEnd(name: ServiceName, args: readonly string[], env: NodeJS.ProcessEnv): Promise<string> {
  const child = spawnTied(process.execPath, [serviceEntry(name), ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  if (!child.stdout || !child.stderr) throw new Error(`${name}: no output pipes`);
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`${name} ${args.join(' ')} failed (exit ${code}): ${output.trim()}`);
  return output.trim();
}
