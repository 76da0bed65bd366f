import type { Readable } from 'node:stream';
import type { LiveOutput } from './types';

/**
 * A job that writes a byte per write would cost the worker a read, a Buffer and a callback per
 * byte: after this many small reads in a row, a stream is read at most once per PAUSE_MS, and
 * the bytes wait in the kernel's pipe meanwhile (the writer blocks once it is full). So the
 * worker's cost per job is bounded by its duration, whatever the job's pattern of writes.
 */
const FREE_SMALL_READS = 32;
const SMALL_READ_BYTES = 16 * 1024;
const PAUSE_MS = 2;

/** How long the pipes may take to end once every process of the sandbox has. */
const DRAIN_WAIT_MS = 1000;

/** What a live job that keeps no output still keeps of stderr: enough to tell a heap-limit abort. */
const STDERR_TAIL_BYTES = 4096;

/**
 * The libuv handle under a pipe. pause() alone does not stop the reads: the stream keeps reading
 * into its own buffer up to its high-water mark, a read per byte. Stopping the handle takes the
 * fd out of the event loop, and while the stream's `_read` (which would start it again) does
 * nothing, it stays out.
 */
interface PipeHandle {
  reading?: boolean;
  readStop?: () => number;
  readStart?: () => number;
}

/** Reads one stream, throttled as above; `drain` lifts the throttle and waits for its end. */
class ThrottledReader {
  private smallReads = 0;
  private timer: NodeJS.Timeout | null = null;
  private draining = false;
  /** A live consumer asked for no more for now. */
  private held = false;
  private readonly ended: Promise<void>;

  constructor(
    private readonly stream: Readable,
    onChunk: (chunk: Buffer) => void,
  ) {
    this.ended = new Promise((resolve) => {
      if (stream.readableEnded || stream.destroyed) return resolve();
      stream.once('end', resolve);
      stream.once('close', resolve);
    });
    stream.on('data', (chunk: Buffer) => {
      onChunk(chunk);
      if (this.draining || this.held) return;
      this.smallReads = chunk.length < SMALL_READ_BYTES ? this.smallReads + 1 : 0;
      if (this.smallReads > FREE_SMALL_READS) this.pause();
    });
  }

  /** Stops delivering chunks (the stream reads to its high-water mark, then the pipe fills) until `release`. */
  hold(): void {
    if (this.draining) return;
    this.held = true;
    this.stream.pause();
  }

  release(): void {
    if (!this.held) return;
    this.held = false;
    this.stream.resume();
  }

  private handle(): PipeHandle | undefined {
    return (this.stream as unknown as { _handle?: PipeHandle })._handle;
  }

  private pause(): void {
    const handle = this.handle();
    if (!handle?.readStop || !handle.readStart) return; // not a pipe of libuv's: read as it comes
    (this.stream as unknown as { _read: () => void })._read = () => undefined;
    handle.reading = false;
    handle.readStop();
    this.timer = setTimeout(() => this.resume(), PAUSE_MS);
  }

  private resume(): void {
    if (this.timer === null) return;
    clearTimeout(this.timer);
    this.timer = null;
    // Back to the stream's own _read, and the handle started as that _read would (the stream
    // still counts the read it asked for during the pause as under way: the next push ends it).
    delete (this.stream as unknown as { _read?: unknown })._read;
    const handle = this.handle();
    if (handle?.readStart) {
      handle.reading = true;
      handle.readStart();
    }
  }

  /**
   * Reads, at full speed, what the pipe holds now: after two turns of the event loop, the second
   * after a poll in which libuv read the pipe until it had nothing more.
   */
  async flush(): Promise<void> {
    this.draining = true;
    this.held = false;
    this.resume();
    this.stream.resume();
    for (let turn = 0; turn < 2; turn += 1) await new Promise((resolve) => setImmediate(resolve));
  }

  /** Reads the rest at full speed; resolves at the stream's end, or after `waitMs`. */
  drain(waitMs: number): Promise<void> {
    this.draining = true;
    this.held = false;
    this.resume();
    this.stream.resume();
    let timer: NodeJS.Timeout | undefined;
    return Promise.race([this.ended, new Promise<void>((resolve) => (timer = setTimeout(resolve, waitMs)))]).finally(() => clearTimeout(timer));
  }
}

/**
 * What one job writes to stdout and stderr: kept up to the output cap (beyond it, `onOverflow`
 * is called once and nothing more is kept), until the answer is decided (`seal`): what the job
 * writes after that reaches nobody.
 */
export class JobOutput {
  private readonly out: Buffer[] = [];
  private readonly err: Buffer[] = [];
  private readonly readers: ThrottledReader[];
  private bytes = 0;
  private sealed = false;
  private overflowed = false;

  constructor(
    stdout: Readable,
    stderr: Readable,
    private readonly maxBytes: number,
    private readonly onOverflow: () => void,
    private readonly live?: LiveOutput,
  ) {
    const out = new ThrottledReader(stdout, (chunk) => this.keep('stdout', out, chunk));
    const err = new ThrottledReader(stderr, (chunk) => this.keep('stderr', err, chunk));
    this.readers = [out, err];
  }

  private keep(stream: 'stdout' | 'stderr', reader: ThrottledReader, chunk: Buffer): void {
    if (this.sealed) return;
    const into = stream === 'stdout' ? this.out : this.err;
    const room = this.maxBytes - this.bytes;
    this.bytes += chunk.length;
    const over = this.bytes > this.maxBytes;
    if (over) this.sealed = this.overflowed = true;
    // Streamed: never a byte past the cap. Kept: the chunk whole, the cut is made in `collected`.
    const kept = over ? chunk.subarray(0, Math.max(0, room)) : chunk;
    if (!this.live || this.live.keep) into.push(chunk);
    else if (stream === 'stderr') this.keepTail(kept);
    if (this.live && kept.length > 0 && !this.live.onOutput(stream, kept, () => reader.release())) reader.hold();
    if (over) this.onOverflow();
  }

  /** Only the last STDERR_TAIL_BYTES of stderr. */
  private keepTail(chunk: Buffer): void {
    this.err.push(chunk);
    let size = this.err.reduce((sum, part) => sum + part.length, 0);
    while (size - (this.err[0]?.length ?? 0) >= STDERR_TAIL_BYTES) size -= (this.err.shift() as Buffer).length;
  }

  /** The answer is decided: nothing written from now on is kept. */
  seal(): void {
    this.sealed = true;
  }

  /**
   * Reads what is left in the pipes and keeps nothing after it. `writersGone`: every process of
   * the sandbox has ended, so the pipes end; otherwise (the runtime has called exit_group, and
   * its writes are all in the pipes already) what they hold now is read.
   */
  async drained(writersGone: boolean): Promise<void> {
    await Promise.all(this.readers.map((reader) => (writersGone ? reader.drain(DRAIN_WAIT_MS) : reader.flush())));
    this.sealed = true;
  }

  /** What was written, within the cap (`before` comes first on stderr: the boot's own output). */
  collected(before: readonly Buffer[]): { stdout: Buffer; stderr: Buffer; truncated: boolean } {
    let stdout = Buffer.concat(this.out);
    let stderr = Buffer.concat([...before, ...this.err]);
    let truncated = this.overflowed;
    if (stdout.length + stderr.length > this.maxBytes) {
      truncated = true;
      stdout = stdout.subarray(0, this.maxBytes);
      stderr = stderr.subarray(0, this.maxBytes - stdout.length);
    }
    return { stdout, stderr, truncated };
  }
}
