import { readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { Duplex, Readable, Writable } from 'node:stream';
import { execa } from 'execa';

export interface SandboxOptions {
  /** The sandbox runtime (pinned Node 24). */
  nodePath: string;
  /** corral-spawn, the trusted parent. */
  helperPath: string;
  bootstrapPath: string;
  /** V8 old-space limit (`--max-old-space-size`). */
  heapMb: number;
  /** Working directory of the sandbox; `main.js` is reported as living here. */
  cwd: string;
  /** rlimits set by corral-spawn, e.g. `{ core: 0, fsize: 0 }`. */
  rlimits?: Readonly<Record<string, number>>;
}

/** How a sandbox process ended, as its trusted parent saw it. */
export interface SandboxExit {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** User + system CPU of the whole process (boot included), in µs. */
  cpuUs: number;
  maxRssKb: number;
  /** Set when the process could not be started or its parent vanished. */
  launchError?: string;
}

export interface RunRequest {
  code: string;
  args: readonly string[];
  stdin: string;
  timeoutMs: number;
  /** stdout + stderr bytes kept; beyond it the sandbox is killed. */
  maxOutputBytes: number;
}

export interface RunResult {
  exit: SandboxExit;
  stdout: Buffer;
  stderr: Buffer;
  truncated: boolean;
  /** Set when the sandbox was killed by this side for a budget. */
  killedFor: 'timeout' | 'output_limit' | null;
  /** From handing over the job to the process's end. */
  durationMs: number;
  /** CPU used by the job itself (the boot before it not counted). */
  cpuMs: number;
  memoryBytes: number;
}

/** Signal numbers to names; the first name of a number wins (SIGABRT, not its alias SIGIOT). */
const SIGNAL_NAMES = new Map<number, NodeJS.Signals>();
for (const [name, number] of Object.entries(constants.signals)) {
  if (!SIGNAL_NAMES.has(number)) SIGNAL_NAMES.set(number, name as NodeJS.Signals);
}

/** Boot-time stderr kept for error messages (a runtime that cannot start says why there). */
const BOOT_STDERR_LIMIT = 8192;

function parseExit(line: string): SandboxExit {
  const [, code, signal, userUs, sysUs, maxRssKb] = line.split(' ').map(Number) as number[];
  return {
    exitCode: code === undefined || code < 0 ? null : code,
    signal: signal ? (SIGNAL_NAMES.get(signal) ?? null) : null,
    cpuUs: (userUs ?? 0) + (sysUs ?? 0),
    maxRssKb: maxRssKb ?? 0,
  };
}

function whenEnded(stream: Readable, timeoutMs: number): Promise<void> {
  if (stream.readableEnded || stream.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    const done = (): void => {
      clearTimeout(timer);
      resolve();
    };
    stream.once('end', done);
    stream.once('close', done);
  });
}

/**
 * One sandbox process, booted ahead of its job and used for exactly one. `ready` resolves when
 * the runtime has booted and waits for a job; `run` hands it the job and resolves when the
 * process has ended, with what it wrote and what its trusted parent measured.
 */
export class Sandbox {
  readonly ready: Promise<void>;
  readonly exited: Promise<SandboxExit>;
  private readonly stdin: Writable;
  private readonly stdout: Readable;
  private readonly stderr: Readable;
  private readonly jobChannel: Duplex;
  private readonly terminateParent: () => void;
  private childPid: number | null = null;
  private bootStderr: Buffer[] = [];
  private bootStderrBytes = 0;
  private used = false;
  private ended = false;

  constructor(options: SandboxOptions) {
    const rlimits = Object.entries(options.rlimits ?? {}).flatMap(([name, value]) => ['--rlimit', `${name}=${value}`]);
    const proc = execa(
      options.helperPath,
      [
        '--status-fd',
        '4',
        '--keep-fds',
        '4', // stdin, stdout, stderr and the job channel
        ...rlimits,
        '--',
        options.nodePath,
        '--permission',
        `--allow-fs-read=${options.bootstrapPath}`,
        `--max-old-space-size=${options.heapMb}`,
        options.bootstrapPath,
      ],
      {
        stdio: ['pipe', 'pipe', 'pipe', 'pipe', 'pipe'],
        env: {},
        extendEnv: false,
        cwd: options.cwd,
        buffer: false,
        reject: false,
        encoding: 'buffer',
        stripFinalNewline: false,
        cleanup: true,
      },
    );
    this.terminateParent = () => proc.kill('SIGTERM');
    this.stdin = proc.stdin as Writable;
    this.stdout = proc.stdout as Readable;
    this.stderr = proc.stderr as Readable;
    this.jobChannel = proc.stdio[3] as unknown as Duplex;
    const status = proc.stdio[4] as unknown as Readable;
    this.stdin.on('error', () => undefined); // EPIPE when the code never reads its stdin
    this.jobChannel.on('error', () => undefined);
    this.stderr.on('data', this.onBootStderr);

    this.exited = new Promise<SandboxExit>((resolve) => {
      let text = '';
      let exit: SandboxExit | undefined;
      status.on('data', (chunk: Buffer) => {
        text += chunk.toString('latin1');
        let newline: number;
        while ((newline = text.indexOf('\n')) >= 0) {
          const line = text.slice(0, newline);
          text = text.slice(newline + 1);
          if (line.startsWith('pid ')) this.childPid = Number(line.slice(4));
          else if (line.startsWith('exit ')) exit = parseExit(line);
          else if (line.startsWith('error ')) exit = { exitCode: null, signal: null, cpuUs: 0, maxRssKb: 0, launchError: line.slice(6) };
        }
      });
      const settle = (): void => {
        if (this.ended) return;
        this.ended = true;
        resolve(exit ?? { exitCode: null, signal: 'SIGKILL', cpuUs: 0, maxRssKb: 0, launchError: 'the sandbox launcher ended without a report' });
      };
      status.once('end', settle);
      status.once('close', settle);
      void proc.then((result) => {
        if (result.failed && !exit && result.cause instanceof Error) {
          exit = { exitCode: null, signal: null, cpuUs: 0, maxRssKb: 0, launchError: result.cause.message };
        }
        settle();
      });
    });

    this.ready = new Promise<void>((resolve, reject) => {
      this.jobChannel.once('data', () => {
        this.jobChannel.pause();
        if (this.childPid !== null) resolve();
        else reject(new Error('the sandbox announced itself before its launcher reported its pid'));
      });
      void this.exited.then((exit) => {
        const stderr = Buffer.concat(this.bootStderr).toString('utf8').trim();
        const how = exit.launchError ?? (exit.signal ? `signal ${exit.signal}` : `exit code ${exit.exitCode}`);
        reject(new Error(`the sandbox ended before it was ready (${how})${stderr ? `: ${stderr}` : ''}`));
      });
    });
    this.ready.catch(() => undefined); // callers that never await it must not see an unhandled rejection
  }

  /** The sandbox process (not its launcher), once known. */
  get pid(): number | null {
    return this.childPid;
  }

  private readonly onBootStderr = (chunk: Buffer): void => {
    if (this.bootStderrBytes >= BOOT_STDERR_LIMIT) return;
    this.bootStderr.push(chunk);
    this.bootStderrBytes += chunk.length;
  };

  /** CPU the sandbox process has used so far, in ms (exact: the scheduler's own count). */
  cpuUsedMs(): number {
    if (this.childPid === null) return 0;
    try {
      const [runNs] = readFileSync(`/proc/${this.childPid}/schedstat`, 'latin1').split(' ');
      return Number(runNs) / 1e6;
    } catch {
      return 0;
    }
  }

  /** Kills the sandbox and everything in its process group, now. Safe to call at any time. */
  kill(): void {
    if (this.ended) return;
    if (this.childPid !== null) {
      try {
        process.kill(-this.childPid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    this.terminateParent();
  }

  /** Hands the sandbox its one job and waits until the process has ended. */
  async run(request: RunRequest): Promise<RunResult> {
    if (this.used) throw new Error('a sandbox runs exactly one job');
    this.used = true;
    await this.ready;
    const cpuBaseMs = this.cpuUsedMs();
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [...this.bootStderr];
    let outputBytes = this.bootStderrBytes;
    let truncated = false;
    let killedFor: RunResult['killedFor'] = null;
    this.stderr.off('data', this.onBootStderr);
    const collect =
      (sink: Buffer[]) =>
      (chunk: Buffer): void => {
        if (truncated) return;
        const room = request.maxOutputBytes - outputBytes;
        if (chunk.length > room) {
          sink.push(chunk.subarray(0, room));
          outputBytes += room;
          truncated = true;
          killedFor ??= 'output_limit';
          this.kill();
          return;
        }
        sink.push(chunk);
        outputBytes += chunk.length;
      };
    this.stdout.on('data', collect(stdout));
    this.stderr.on('data', collect(stderr));

    const started = performance.now();
    const timer = setTimeout(() => {
      killedFor ??= 'timeout';
      this.kill();
    }, request.timeoutMs);
    this.jobChannel.end(JSON.stringify({ code: request.code, args: request.args }));
    this.stdin.end(request.stdin);

    const exit = await this.exited;
    const durationMs = performance.now() - started;
    clearTimeout(timer);
    // The pipes close when the last holder in the (now killed) process group is gone.
    await Promise.all([whenEnded(this.stdout, 1000), whenEnded(this.stderr, 1000)]);
    return {
      exit,
      stdout: Buffer.concat(stdout),
      stderr: Buffer.concat(stderr),
      truncated,
      killedFor,
      durationMs,
      cpuMs: Math.max(0, exit.cpuUs / 1000 - cpuBaseMs),
      memoryBytes: exit.maxRssKb * 1024,
    };
  }
}
