import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import type { Duplex, Readable, Writable } from 'node:stream';
import { readCgroupCpuMs, type SandboxCgroup } from '@corral/cgroup';
import { chownSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { launcherArgs, LauncherStatus, sandboxPaths, type SandboxExit } from './launcher';
import { JobCollector, jobLine } from './job';
import { JobOutput } from './output';
import { findRuntimePid, peakRssKb, schedstatMs, setThreadsPriority, treeCpuMs } from './procfs';

import type { RunRequest, RunResult, SandboxOptions } from './types';

export type { SandboxExit } from './launcher';
export type { LiveOutput, RunRequest, RunResult, SandboxOptions } from './types';

/** A ready sandbox's CPU is read again this long after ready, once the boot's background threads have settled. */
const READY_RESAMPLE_MS = 100;

/** How often the worker samples a running sandbox's peak memory. */
const PEAK_SAMPLE_MS = 50;

/** Boot-time stderr kept for error messages (a runtime that cannot start says why there). */
const BOOT_STDERR_LIMIT = 8192;

/**
 * Without bubblewrap a sandbox's working directory and entry folder are folders of its own on
 * the host (inside `cwd`), its uid's alone, removed once it has ended; the package set is linked
 * beside them, where node's resolution from the working directory finds it.
 */
function ownFolders(options: SandboxOptions): { scratch: string; work: string; entry: string; packagesLink: string } {
  const scratch = mkdtempSync(join(options.cwd, 'sbx-'));
  const work = join(scratch, 'work');
  const entry = join(scratch, 'entry');
  const packagesLink = join(scratch, 'node_modules');
  for (const dir of [work, entry]) mkdirSync(dir, { mode: 0o700 });
  if (options.packagesDir) symlinkSync(options.packagesDir, packagesLink);
  const { uid, gid } = options.jail ?? {};
  if (uid !== undefined && gid !== undefined) for (const dir of [scratch, work, entry]) chownSync(dir, uid, gid);
  return { scratch, work, entry, packagesLink };
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
  /** corral-spawn's status pipe; its leader is the head of the sandbox's process group (bubblewrap, or the runtime). */
  private readonly launcher: LauncherStatus;
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
  /** The runtime binary on the host: its amaro decides whether TypeScript travels stripped. */
  private readonly nodePath: string;
  /** The sandbox's CPU when it became ready (ms), as `cpuUsedMs` and `runtimeCpuMs` count it. */
  private readyCpu = { sandboxMs: 0, runtimeMs: 0 };
  private killing = false;

  constructor(options: SandboxOptions) {
    // node:child_process rather than execa here: this runs once per execution on the worker's
    // only thread, and execa's extra work per process (streams, promises, an AbortController on
    // kill) cost about 3 ms of the worker's CPU per sandbox. corral-spawn takes the sandbox down
    // when the worker dies (PR_SET_PDEATHSIG), which is what execa's `cleanup` was for.
    const own = options.jail?.bwrap ? undefined : ownFolders(options);
    const paths = sandboxPaths(options, own);
    const proc = spawn(options.helperPath, launcherArgs(options, paths), {
      stdio: ['pipe', 'pipe', 'pipe', 'pipe', 'pipe'],
      env: {},
      cwd: own ? own.work : options.cwd,
    });
    this.cgroup = options.jail?.cgroup?.cg ?? null;
    this.niced = (options.bootNice ?? 0) > 0;
    this.nodePath = options.nodePath;
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

    const launcher = new LauncherStatus(status, jailed, () => (this.ended = true));
    this.launcher = launcher;
    if (own) void launcher.exited.then(() => rmSync(own.scratch, { recursive: true, force: true }));
    this.exited = launcher.exited;
    proc.once('error', (err) => launcher.settle(err.message));
    proc.once('close', () => launcher.settle());

    this.ready = new Promise<void>((resolve, reject) => {
      this.jobChannel.once('data', () => {
        this.jobChannel.pause();
        const leader = this.launcher.leaderPid;
        if (leader === null) return reject(new Error('the sandbox announced itself before its launcher reported its pid'));
        this.runtimePid = jailed ? findRuntimePid(leader) : leader;
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
    return this.launcher.leaderPid;
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
    const leader = this.launcher.leaderPid;
    return leader === null ? 0 : treeCpuMs(leader);
  }

  /** CPU the runtime process alone has used so far, in ms (what pidusage sees of it). */
  runtimeCpuMs(): number {
    return this.runtimePid === null ? 0 : schedstatMs(this.runtimePid);
  }

  /** The job runs at full priority: the runtime's threads back to nice 0 (root only; bubblewrap's stay idle). */
  private unnice(): void {
    if (this.niced && this.runtimePid !== null) setThreadsPriority(this.runtimePid, 0);
  }

  /** Samples the runtime's peak resident memory (VmHWM) from the trusted side. */
  private samplePeak(): void {
    if (this.runtimePid === null || this.ended) return;
    this.sampledPeakKb = Math.max(this.sampledPeakKb, peakRssKb(this.runtimePid) ?? 0);
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
    // Once the process group is known, one round of signals is enough; before, a later call still has work to do.
    const leader = this.launcher.leaderPid;
    this.killing = leader !== null;
    for (const target of [this.runtimePid, leader === null ? null : -leader]) {
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

  /** More stdin for an interactive job (a no-op once it has ended or stdin was ended). */
  writeStdin(data: string | Buffer): void {
    if (!this.ended && this.stdin.writable) this.stdin.write(data);
  }

  /** Ends an interactive job's stdin: its reads see end of file. */
  endStdin(): void {
    if (this.stdin.writable) this.stdin.end();
  }

  /**
   * Sends the runtime process a signal the job may handle (SIGINT, SIGTERM); a no-op before the
   * job has its process or after it has ended.
   */
  signal(signal: 'SIGINT' | 'SIGTERM'): void {
    if (this.ended || this.runtimePid === null || !this.used) return;
    try {
      process.kill(this.runtimePid, signal);
    } catch {
      // already gone
    }
  }

  /** Hands the sandbox its one job and waits until the process has ended. */
  async run(request: RunRequest): Promise<RunResult> {
    if (this.used) throw new Error('a sandbox runs exactly one job');
    this.used = true;
    await this.ready;
    // The boot's CPU and peak memory were read at ready (a job too short for the sampler still reports memory).
    const cpuBaseMs = this.readyCpu.sandboxMs;
    let killedFor: RunResult['killedFor'] = null;
    this.stderr.off('data', this.onBootStderr);
    const output = new JobOutput(
      this.stdout,
      this.stderr,
      request.maxOutputBytes,
      () => {
        killedFor ??= 'output_limit';
        this.kill();
      },
      request.live,
    );

    const line = jobLine(request, this.nodePath);
    const started = performance.now();
    const sampler = setInterval(() => this.samplePeak(), PEAK_SAMPLE_MS);
    const timer = setTimeout(() => {
      killedFor ??= 'timeout';
      output.seal();
      this.kill();
    }, request.timeoutMs);
    const collector = request.collect && request.collect.length > 0 ? new JobCollector(this.jobChannel, request.maxCollectBytes ?? 0) : null;
    this.jobChannel.end(line);
    if (request.live?.interactive) this.stdin.write(request.stdin);
    else this.stdin.end(request.stdin);

    // How it ended comes from its trusted parent alone, once every process of it has ended:
    // nothing the job writes or does inside can answer for it, or answer early.
    const exit = await this.launcher.reported;
    const durationMs = performance.now() - started;
    // Without a cgroup an early report carries the runtime's CPU as corral-spawn read it at its
    // exit (reading /proc here loses a race with the reap: a 200 ms job once counted 0); only
    // when that could not be read, the process tree's, now.
    const cpuEndMs = exit.cgroupCpuUs !== null ? exit.cgroupCpuUs / 1000 : exit.early && exit.cpuUs <= 0 ? this.cpuUsedMs() : exit.cpuUs / 1000;
    clearTimeout(timer);
    clearInterval(sampler);
    await output.drained(!exit.early);
    const { stdout, stderr, truncated } = output.collected(this.bootStderr);
    const files = collector?.files();
    if (truncated) killedFor ??= 'output_limit';
    return {
      exit,
      stdout,
      stderr,
      truncated,
      killedFor,
      durationMs,
      cpuMs: Math.max(0, Math.max(cpuEndMs, this.sampledCpuMs) - cpuBaseMs),
      // A process killed behind bubblewrap may never be waited for by anyone who reports its
      // usage; the peak the worker sampled while it ran covers that case.
      memoryBytes: Math.max(exit.maxRssKb, this.sampledPeakKb) * 1024,
      ...(files ? { files } : {}),
    };
  }
}
