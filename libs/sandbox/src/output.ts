import type { Readable } from 'node:stream';
import { EndMarker } from './end-marker';

/** Room in the output cap for the end markers (they are cut before anything is counted). */
const MARKER_ROOM = 128;

/**
 * What one job writes to stdout and stderr: kept up to the output cap (beyond it, `onOverflow`
 * is called once), with the bootstrap's end markers found and cut.
 */
export class JobOutput {
  private readonly out: { chunks: Buffer[]; marker: EndMarker };
  private readonly err: { chunks: Buffer[]; marker: EndMarker };
  private rawBytes = 0;
  private overflowed = false;
  /** Resolves once both end markers have arrived (everything the code wrote is here). */
  readonly marked: Promise<'marked'>;

  constructor(
    stdout: Readable,
    stderr: Readable,
    nonce: string,
    private readonly maxBytes: number,
    onOverflow: () => void,
  ) {
    this.out = { chunks: [], marker: new EndMarker(nonce, false) };
    this.err = { chunks: [], marker: new EndMarker(nonce, true) };
    let markersSeen: () => void = () => undefined;
    this.marked = new Promise((resolve) => (markersSeen = () => resolve('marked')));
    const collect =
      (stream: typeof this.out) =>
      (chunk: Buffer): void => {
        if (this.overflowed) return;
        stream.chunks.push(chunk);
        this.rawBytes += chunk.length;
        stream.marker.feed(chunk);
        if (this.out.marker.found && this.err.marker.found) markersSeen();
        else if (this.rawBytes > maxBytes + MARKER_ROOM) {
          this.overflowed = true;
          onOverflow();
        }
      };
    stdout.on('data', collect(this.out));
    stderr.on('data', collect(this.err));
  }

  /** The exit code the stderr marker carried (the bootstrap's word), once marked. */
  get markedCode(): number | null {
    return this.err.marker.code;
  }

  get overflow(): boolean {
    return this.overflowed;
  }

  /** What was written, markers cut, within the cap (`before` comes first on stderr: the boot's own output). */
  collected(before: readonly Buffer[]): { stdout: Buffer; stderr: Buffer; truncated: boolean } {
    const upTo = (stream: typeof this.out): Buffer => {
      const all = Buffer.concat(stream.chunks);
      return stream.marker.offset === null ? all : all.subarray(0, stream.marker.offset);
    };
    let stdout = upTo(this.out);
    let stderr = Buffer.concat([...before, upTo(this.err)]);
    let truncated = false;
    if (stdout.length + stderr.length > this.maxBytes) {
      truncated = true;
      stdout = stdout.subarray(0, this.maxBytes);
      stderr = stderr.subarray(0, this.maxBytes - stdout.length);
    }
    return { stdout, stderr, truncated };
  }
}
