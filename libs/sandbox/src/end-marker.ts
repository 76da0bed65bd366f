/**
 * Finds the bootstrap's end marker in one output stream, across chunk boundaries:
 * `\0<nonce>\0` on stdout, `\0<nonce>:<exit code>\0` on stderr. Reports where in the stream the
 * marker began, so that what the code wrote stays and the marker does not.
 */
export class EndMarker {
  private readonly head: Buffer;
  private window = Buffer.alloc(0);
  /** Bytes of the stream before `window`. */
  private before = 0;
  /** Offset of the marker in the stream, once complete. */
  offset: number | null = null;
  /** The exit code carried by a stderr marker. */
  code: number | null = null;

  /** @param withCode the stderr form: `<nonce>:` then digits, then NUL */
  constructor(
    nonce: string,
    private readonly withCode: boolean,
  ) {
    this.head = Buffer.from(`\0${nonce}${withCode ? ':' : '\0'}`, 'latin1');
  }

  get found(): boolean {
    return this.offset !== null;
  }

  /** Looks for the marker in the next chunk of the stream. */
  feed(chunk: Buffer): void {
    if (this.found) return;
    const data = Buffer.concat([this.window, chunk]);
    const at = data.indexOf(this.head);
    if (at >= 0) {
      if (!this.withCode) {
        this.offset = this.before + at;
        return;
      }
      const end = data.indexOf(0, at + this.head.length);
      if (end >= 0) {
        const digits = data.subarray(at + this.head.length, end).toString('latin1');
        if (/^-?\d{1,10}$/.test(digits)) {
          this.code = Number(digits);
          this.offset = this.before + at;
          return;
        }
      } else {
        // the code has not arrived yet: keep everything from the marker's start
        this.before += at;
        this.window = data.subarray(at);
        return;
      }
    }
    // Keep as much as could hold the start of a marker split by the next chunk.
    const keep = Math.min(data.length, this.head.length + 12);
    this.before += data.length - keep;
    this.window = data.subarray(data.length - keep);
  }
}
