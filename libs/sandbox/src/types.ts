import type { CollectedFile, Language, ProgramFile } from '@corral/contracts';
import type { JailSpec } from './jail';
import type { SandboxExit } from './launcher';

/** How to start one sandbox: what the profile builds and `Sandbox` takes. */
export interface SandboxOptions {
  /** The sandbox runtime (pinned Node 24). */
  nodePath: string;
  /** corral-spawn, the trusted parent. */
  helperPath: string;
  bootstrapPath: string;
  /** V8 old-space limit (`--max-old-space-size`). */
  heapMb: number;
  /**
   * A folder the launcher starts in. Without bubblewrap, each sandbox makes its working
   * directory and entry folder inside it (so it must be traversable by the sandbox uid).
   */
  cwd: string;
  /** A `node_modules` folder the job may import from (bound at /node_modules inside bubblewrap). */
  packagesDir?: string;
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

/** One job: `code` (written as main.js, or main.ts for TypeScript), or `files` with an `entry`. */
export interface RunRequest {
  code?: string;
  language?: Language;
  files?: readonly ProgramFile[];
  /** The file of `files` node runs as its main module (the first when not given). */
  entry?: string;
  /** Globs of the working directory whose files come back in the result. */
  collect?: readonly string[];
  /** The collected files' bytes together, at most. */
  maxCollectBytes?: number;
  args: readonly string[];
  stdin: string;
  timeoutMs: number;
  /** stdout + stderr bytes kept; beyond it the sandbox is killed. */
  maxOutputBytes: number;
  /** Output delivered as it comes, and stdin left open (see LiveOutput); absent for a job answered whole. */
  live?: LiveOutput;
}

/**
 * A live job's output: each chunk as it comes, in the order read, within the output cap. A
 * consumer that returns false from `onOutput` stops the reading of that stream (the program
 * then blocks on its writes once the pipe is full) until it calls `resume`: a slow consumer
 * slows the program, and nothing between them grows.
 */
export interface LiveOutput {
  onOutput(stream: 'stdout' | 'stderr', chunk: Buffer, resume: () => void): boolean;
  /** Keep the output for the result too (it is streamed either way). */
  keep: boolean;
  /** stdin stays open after `stdin` for `Sandbox.writeStdin`, until `Sandbox.endStdin`. */
  interactive: boolean;
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
  /** What `collect` matched (when asked for and the job ended through node's exit). */
  files?: CollectedFile[];
}
