import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { constants, setPriority } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { Duplex, Readable, Writable } from 'node:stream';
import { readCgroupCpuMs, type SandboxCgroup } from '@corral/cgroup';
import { EndMarker } from './end-marker';
import { bwrapArgs, JAILED_BOOTSTRAP, JAILED_NODE, type JailSpec } from './jail';

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
  /** OS layers around the process (bubblewrap, uid, cgroup); none when absent. */
  jail?: JailSpec;
  /**
   * Boot at this nice value, so that a booting replacement yields the cores to running jobs;
   * `run` raises the process back to 0 (only root may, so without root it stays).
   */
  bootNice?: number;
  /**
   * Node's permission model; on unless set to false. Only tests turn it off, to prove that
   * the OS layers hold on their own when this layer fails.
   */
  permissionModel?: boolean;
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
  /** The cgroup's OOM killer ended a process of the sandbox. */
  oomKilled: boolean;
  /** CPU of the whole tree from the cgroup, in µs, when the sandbox had one. */
  cgroupCpuUs: number | null;
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

/**
 * Closes gaps of the permission model: V8 flags cannot change at run time (a change ends the
 * process), and node:sqlite, which opens files outside the allow-list, does not exist.
 */
const RUNTIME_FLAGS = ['--freeze-flags-after-init', '--no-experimental-sqlite'];

/** Room in the output cap for the end markers (they are cut before anything is counted). */
const MARKER_ROOM = 128;

/** A ready sandbox's CPU is read again this long after ready, once the boot's background threads have settled. */
const READY_RESAMPLE_MS = 100;

/** How often the worker samples a running sandbox's peak memory. */
const PEAK_SAMPLE_MS = 50;

/** Boot-time stderr kept for error messages (a runtime that cannot start says why there). */
const BOOT_STDERR_LIMIT = 8192;

/**
 * Parses corral-spawn's exit line. Behind bubblewrap the sandbox's own death by a signal comes
 * back as exit code 128 + signal (bubblewrap's convention), so it is read back as the signal.
 */
function parseExit(line: string, jailed: boolean, cgroup: Map<string, number>): SandboxExit {
  const [, code, signal, userUs, sysUs, maxRssKb] = line.split(' ').map(Number) as number[];
  let exitCode = code === undefined || code < 0 ? null : code;
  let signalName = signal ? (SIGNAL_NAMES.get(signal) ?? null) : null;
  if (jailed && exitCode !== null && exitCode > 128 && SIGNAL_NAMES.has(exitCode - 128)) {
    signalName = SIGNAL_NAMES.get(exitCode - 128) ?? null;
    exitCode = null;
  }
  const cpuNs = cgroup.get('cpuNs');
  const cpuUs = cgroup.get('cpuUs');
  return {
    exitCode,
    signal: signalName,
    cpuUs: (userUs ?? 0) + (sysUs ?? 0),
    maxRssKb: maxRssKb ?? 0,
    oomKilled: (cgroup.get('oomKills') ?? 0) > 0,
    cgroupCpuUs: cpuNs !== undefined && cpuNs >= 0 ? cpuNs / 1000 : cpuUs !== undefined && cpuUs >= 0 ? cpuUs : null,
  };
}

/** A failure to start, as an exit. */
function launchFailure(message: string): SandboxExit {
  return { exitCode: null, signal: null, cpuUs: 0, maxRssKb: 0, oomKilled: false, cgroupCpuUs: null, launchError: message };
}

/** corral-spawn's arguments for one sandbox: its own options, then the program to start. */
function launcherArgs(options: SandboxOptions): string[] {
  const jail = options.jail ?? {};
  const rlimits = { ...options.rlimits, ...jail.rlimits };
  const args = ['--status-fd', '4', '--keep-fds', '4']; // stdin, stdout, stderr and the job channel
  for (const [name, value] of Object.entries(rlimits)) args.push('--rlimit', `${name}=${value}`);
  if (jail.uid !== undefined && jail.gid !== undefined) args.push('--uid', String(jail.uid), '--gid', String(jail.gid));
  if (jail.netns) args.push('--netns', jail.netns);
  if (options.bootNice) args.push('--nice', String(options.bootNice));
  if (jail.cgroup) {
    for (const dir of jail.cgroup.cg.dirs) args.push('--cgroup', dir);
    for (const [file, value] of jail.cgroup.limits) args.push('--cgroup-set', `${file}=${value}`);
    for (const [key, file] of jail.cgroup.reports) args.push('--cgroup-get', `${key}=${file}`);
  }
  const node = jail.bwrap ? JAILED_NODE : options.nodePath;
  const bootstrap = jail.bwrap ? JAILED_BOOTSTRAP : options.bootstrapPath;
  const permission = options.permissionModel === false ? [] : ['--permission', `--allow-fs-read=${bootstrap}`];
  const runtime = [node, ...permission, ...RUNTIME_FLAGS, `--max-old-space-size=${options.heapMb}`, bootstrap];
  if (jail.bwrap) return [...args, '--', jail.bwrap.path, ...bwrapArgs(jail.bwrap, options.nodePath, options.bootstrapPath, Boolean(jail.netns)), ...runtime];
  return [...args, '--', ...runtime];
}

/** A process's CPU time in ms, every thread, from the scheduler (ns precision); 0 when it is gone. */
function schedstatMs(pid: number): number {
  let total = 0;
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        total += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'latin1').split(' ')[0]) / 1e6;
      } catch {
        // the thread ended
      }
    }
  } catch {
    return 0;
  }
  return total;
}

function childrenOf(pid: number): number[] {
  try {
    const text = readFileSync(`/proc/${pid}/task/${pid}/children`, 'latin1').trim();
    return text ? text.split(' ').map(Number) : [];
  } catch {
    return [];
  }
}

/** CPU of a process and its descendants, in ms. */
function treeCpuMs(root: number): number {
  let total = 0;
  const queue = [root];
  for (let seen = 0; queue.length > 0 && seen < 64; seen += 1) {
    const pid = queue.shift() as number;
    total += schedstatMs(pid);
    queue.push(...childrenOf(pid));
  }
  return total;
}

/**
 * The sandbox's own process behind bubblewrap's two (its monitor and the namespace's init):
 * the first descendant that is not bubblewrap. (Node names its main thread "MainThread", so
 * the runtime cannot be found by the name "node".)
 */
function findRuntimePid(leader: number): number {
  const queue = [leader];
  for (let seen = 0; queue.length > 0 && seen < 16; seen += 1) {
    const pid = queue.shift() as number;
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'latin1').trim() !== 'bwrap') return pid;
    } catch {
      // gone, or not ours to read
    }
    queue.push(...childrenOf(pid));
  }
  return leader;
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
  private readonly signalParent: (signal: NodeJS.Signals) => boolean;
  private forceKill: NodeJS.Timeout | null = null;
  /** corral-spawn's child: the leader of the sandbox's process group (bubblewrap, or the runtime). */
  private leaderPid: number | null = null;
  /** The runtime process itself (behind bubblewrap's, when jailed). */
  private runtimePid: number | null = null;
  readonly cgroup: SandboxCgroup | null;
  private bootStderr: Buffer[] = [];
  private bootStderrBytes = 0;
  private used = false;
  private ended = false;
  /** Highest VmHWM of the runtime process seen while it ran (kB). */
  private sampledPeakKb = 0;
  /** CPU of the sandbox when this side killed it (ms): its usage may not reach the report. */
  private sampledCpuMs = 0;
  private readonly niced: boolean;
  /** The sandbox's CPU when it became ready (ms), as `cpuUsedMs` and `runtimeCpuMs` count it. */
  private readyCpu = { sandboxMs: 0, runtimeMs: 0 };
  private killing = false;

  constructor(options: SandboxOptions) {
    // node:child_process rather than execa here: this runs once per execution on the worker's
    // only thread, and execa's extra work per process (streams, promises, an AbortController on
    // kill) cost about 3 ms of the worker's CPU per sandbox. corral-spawn takes the sandbox down
    // when the worker dies (PR_SET_PDEATHSIG), which is what execa's `cleanup` was for.
    const proc = spawn(options.helperPath, launcherArgs(options), {
      stdio: ['pipe', 'pipe', 'pipe', 'pipe', 'pipe'],
      env: {},
      cwd: options.cwd,
    });
    this.cgroup = options.jail?.cgroup?.cg ?? null;
    this.niced = (options.bootNice ?? 0) > 0;
    const jailed = options.jail?.bwrap !== undefined;
    // Node's own kill: a no-op once the launcher has been reaped (its pid may be reused then).
    this.signalParent = (signal) => proc.kill(signal);
    this.stdin = proc.stdin as Writable;
    this.stdout = proc.stdout as Readable;
    this.stderr = proc.stderr as Readable;
    this.jobChannel = proc.stdio[3] as unknown as Duplex;
    const status = proc.stdio[4] as unknown as Readable;
    // EPIPE when the code never reads its stdin; a failed spawn closes every pipe with an error.
    for (const stream of [this.stdin, this.stdout, this.stderr, this.jobChannel, status]) stream.on('error', () => undefined);
    this.stderr.on('data', this.onBootStderr);

    this.exited = new Promise<SandboxExit>((resolve) => {
      let text = '';
      let exit: SandboxExit | undefined;
      const cgroupFigures = new Map<string, number>();
      status.on('data', (chunk: Buffer) => {
        text += chunk.toString('latin1');
        let newline: number;
        while ((newline = text.indexOf('\n')) >= 0) {
          const line = text.slice(0, newline);
          text = text.slice(newline + 1);
          if (line.startsWith('pid ')) this.leaderPid = Number(line.slice(4));
          else if (line.startsWith('cgroup ')) {
            const [, key = '', value = ''] = line.split(' ');
            cgroupFigures.set(key, Number(value));
          } else if (line.startsWith('exit ')) exit = parseExit(line, jailed, cgroupFigures);
          else if (line.startsWith('error ')) exit = launchFailure(line.slice(6));
        }
      });
      const settle = (): void => {
        if (this.ended) return;
        this.ended = true;
        resolve(exit ?? { ...launchFailure('the sandbox launcher ended without a report'), signal: 'SIGKILL' });
      };
      status.once('end', settle);
      status.once('close', settle);
      proc.once('error', (err) => {
        exit ??= launchFailure(err.message);
        settle();
      });
      proc.once('close', settle);
    });

    this.ready = new Promise<void>((resolve, reject) => {
      this.jobChannel.once('data', () => {
        this.jobChannel.pause();
        if (this.leaderPid === null) return reject(new Error('the sandbox announced itself before its launcher reported its pid'));
        this.runtimePid = jailed ? findRuntimePid(this.leaderPid) : this.leaderPid;
        this.settleIn();
        resolve();
      });
      void this.exited.then((exit) => {
        const stderr = Buffer.concat(this.bootStderr).toString('utf8').trim();
        const how = exit.launchError ?? (exit.signal ? `signal ${exit.signal}` : `exit code ${exit.exitCode}`);
        reject(new Error(`the sandbox ended before it was ready (${how})${stderr ? `: ${stderr}` : ''}`));
      });
    });
    this.ready.catch(() => undefined); // callers that never await it must not see an unhandled rejection
  }

  /**
   * Booted: what `run` needs from /proc is read now, off the job's path (each read costs tens of
   * µs, and a job of a millisecond would wait for a dozen): the runtime back to full priority,
   * the boot's peak memory and CPU; the CPU once more a little later, when the boot's background
   * threads (compilers, GC) have settled.
   */
  private settleIn(): void {
    this.unnice();
    this.samplePeak();
    const readCpu = (): void => {
      if (this.used || this.ended) return;
      // The runtime's own count (every thread's schedstat) matters only without a cgroup.
      this.readyCpu = { sandboxMs: this.cpuUsedMs(), runtimeMs: this.cgroup ? 0 : this.runtimeCpuMs() };
    };
    readCpu();
    setTimeout(readCpu, READY_RESAMPLE_MS).unref();
  }

  /** CPU the sandbox had used when it was last sampled while waiting for its job (ms), as `cpuUsedMs` counts it. */
  get cpuAtReadyMs(): number {
    return this.readyCpu.sandboxMs;
  }

  /** CPU the runtime process alone had used then (ms), as `runtimeCpuMs` counts it; read only for a sandbox without a cgroup. */
  get runtimeCpuAtReadyMs(): number {
    return this.readyCpu.runtimeMs;
  }

  /** The runtime process (not its launcher, not bubblewrap), once ready. */
  get pid(): number | null {
    return this.runtimePid;
  }

  /** The leader of the sandbox's process group, once started. */
  get groupLeader(): number | null {
    return this.leaderPid;
  }

  private readonly onBootStderr = (chunk: Buffer): void => {
    if (this.bootStderrBytes >= BOOT_STDERR_LIMIT) return;
    this.bootStderr.push(chunk);
    this.bootStderrBytes += chunk.length;
  };

  /**
   * CPU the whole sandbox has used so far, in ms: its cgroup's count, or the scheduler's exact
   * counts summed over the process tree (bubblewrap's processes included).
   */
  cpuUsedMs(): number {
    if (this.cgroup) {
      const fromCgroup = readCgroupCpuMs(this.cgroup);
      if (fromCgroup !== null) return fromCgroup;
    }
    return this.leaderPid === null ? 0 : treeCpuMs(this.leaderPid);
  }

  /** CPU the runtime process alone has used so far, in ms (what pidusage sees of it). */
  runtimeCpuMs(): number {
    return this.runtimePid === null ? 0 : schedstatMs(this.runtimePid);
  }

  /** The job runs at full priority: the runtime's threads back to nice 0 (root only; bubblewrap's stay idle). */
  private unnice(): void {
    if (!this.niced || this.runtimePid === null) return;
    try {
      for (const tid of readdirSync(`/proc/${this.runtimePid}/task`)) setPriority(Number(tid), 0);
    } catch {
      // not allowed (not root), or gone
    }
  }

  /** Samples the runtime's peak resident memory (VmHWM) from the trusted side. */
  private samplePeak(): void {
    if (this.runtimePid === null || this.ended) return;
    try {
      const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${this.runtimePid}/status`, 'latin1'));
      if (match) this.sampledPeakKb = Math.max(this.sampledPeakKb, Number(match[1]));
    } catch {
      // gone
    }
  }

  /**
   * Kills the sandbox and everything in its process group, now. Safe to call at any time. The
   * runtime goes first, so that bubblewrap's init still reaps it (its usage reaches the report);
   * the launcher is woken (the sandbox may have stopped it) and told to finish, and killed
   * outright if it has not reported within two seconds.
   */
  kill(): void {
    if (this.ended || this.killing) return;
    this.samplePeak();
    this.sampledCpuMs = Math.max(this.sampledCpuMs, this.cpuUsedMs());
    this.terminate();
  }

  /** The signals of `kill`, without sampling first (the caller just has). */
  private terminate(): void {
    if (this.ended || this.killing) return;
    // Once the process group is known, one round of signals is enough; before, a later call still has work to do.
    this.killing = this.leaderPid !== null;
    for (const target of [this.runtimePid, this.leaderPid === null ? null : -this.leaderPid]) {
      if (target === null) continue;
      try {
        process.kill(target, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    this.signalParent('SIGCONT');
    this.signalParent('SIGTERM');
    this.forceKill ??= setTimeout(() => this.signalParent('SIGKILL'), 2000);
    this.forceKill.unref();
    void this.exited.then(() => this.forceKill && clearTimeout(this.forceKill));
  }

  /** Hands the sandbox its one job and waits until the process has ended. */
  async run(request: RunRequest): Promise<RunResult> {
    if (this.used) throw new Error('a sandbox runs exactly one job');
    this.used = true;
    await this.ready;
    // The boot's CPU and peak memory were read at ready (a job too short for the sampler still reports memory).
    const cpuBaseMs = this.readyCpu.sandboxMs;
    // The end marker's nonce: only the bootstrap learns it (from the job), never the code.
    const nonce = randomBytes(12).toString('hex');
    const out = { chunks: [] as Buffer[], marker: new EndMarker(nonce, false) };
    const err = { chunks: [] as Buffer[], marker: new EndMarker(nonce, true) };
    let rawBytes = 0;
    let killedFor: RunResult['killedFor'] = null;
    let markersSeen: () => void = () => undefined;
    const ended = new Promise<'marked'>((resolve) => (markersSeen = () => resolve('marked')));
    this.stderr.off('data', this.onBootStderr);
    const collect =
      (stream: typeof out) =>
      (chunk: Buffer): void => {
        if (killedFor === 'output_limit') return;
        stream.chunks.push(chunk);
        rawBytes += chunk.length;
        stream.marker.feed(chunk);
        if (out.marker.found && err.marker.found) markersSeen();
        else if (rawBytes > request.maxOutputBytes + MARKER_ROOM) {
          killedFor ??= 'output_limit';
          this.kill();
        }
      };
    this.stdout.on('data', collect(out));
    this.stderr.on('data', collect(err));

    const started = performance.now();
    const sampler = setInterval(() => this.samplePeak(), PEAK_SAMPLE_MS);
    const timer = setTimeout(() => {
      killedFor ??= 'timeout';
      this.kill();
    }, request.timeoutMs);
    this.jobChannel.end(`${JSON.stringify({ code: request.code, args: request.args, nonce })}\n`);
    this.stdin.end(request.stdin);

    const how = await Promise.race([this.exited.then(() => 'exited' as const), ended]);
    const durationMs = performance.now() - started;
    clearTimeout(timer);
    clearInterval(sampler);
    let exit: SandboxExit;
    let cpuMs: number;
    if (how === 'marked' && killedFor === null) {
      // Every exit listener has run and everything the code wrote has arrived: answer now,
      // with figures read from the trusted side, and let the runtime's teardown die unseen.
      this.samplePeak();
      const cpuNowMs = this.cpuUsedMs();
      exit = { exitCode: err.marker.code, signal: null, cpuUs: cpuNowMs * 1000, maxRssKb: this.sampledPeakKb, oomKilled: false, cgroupCpuUs: null };
      cpuMs = Math.max(0, cpuNowMs - cpuBaseMs);
      this.sampledCpuMs = cpuNowMs;
      this.terminate();
    } else {
      exit = await this.exited;
      // The pipes close when the last holder in the (now killed) process group is gone.
      await Promise.all([whenEnded(this.stdout, 1000), whenEnded(this.stderr, 1000)]);
      cpuMs = Math.max(0, Math.max((exit.cgroupCpuUs ?? exit.cpuUs) / 1000, this.sampledCpuMs) - cpuBaseMs);
    }
    const upTo = (stream: typeof out): Buffer => {
      const all = Buffer.concat(stream.chunks);
      return stream.marker.offset === null ? all : all.subarray(0, stream.marker.offset);
    };
    let stdout = upTo(out);
    let stderr = Buffer.concat([...this.bootStderr, upTo(err)]);
    let truncated = false;
    if (stdout.length + stderr.length > request.maxOutputBytes) {
      truncated = true;
      killedFor ??= 'output_limit';
      stdout = stdout.subarray(0, request.maxOutputBytes);
      stderr = stderr.subarray(0, request.maxOutputBytes - stdout.length);
    }
    return {
      exit,
      stdout,
      stderr,
      truncated,
      killedFor,
      durationMs,
      cpuMs,
      // A process killed behind bubblewrap may never be waited for by anyone who reports its
      // usage; the peak the worker sampled while it ran covers that case.
      memoryBytes: Math.max(exit.maxRssKb, this.sampledPeakKb) * 1024,
    };
  }
}
