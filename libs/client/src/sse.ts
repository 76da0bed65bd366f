/** One server-sent event: its `event` name (`message` when the block names none) and its `data` lines joined. */
export interface SseMessage {
  event: string;
  data: string;
}

/**
 * The text/event-stream format (WHATWG HTML §9.2) as far as corral uses it: `event:` and
 * `data:` fields, comment lines (`: heartbeat`) skipped, blocks ended by a blank line, any of
 * CRLF, LF or CR as line end. Text is pushed in pieces cut anywhere (a read of the body ends
 * where the network cut it); an event is given out once its blank line arrived. Small enough
 * to keep here rather than take a dependency for it (the client has none but the contracts).
 */
export class SseParser {
  private pending = '';
  private event = '';
  private data: string[] = [];

  /** Feeds a piece of the stream; returns the events it completed, in order. */
  push(text: string): SseMessage[] {
    this.pending += text;
    const out: SseMessage[] = [];
    for (;;) {
      const end = this.pending.search(/\r\n|\r|\n/);
      if (end === -1) break;
      // A CR at the very end may be the first half of a CRLF still on its way.
      if (this.pending[end] === '\r' && end === this.pending.length - 1) break;
      const width = this.pending.startsWith('\r\n', end) ? 2 : 1;
      const line = this.pending.slice(0, end);
      this.pending = this.pending.slice(end + width);
      const message = this.line(line);
      if (message) out.push(message);
    }
    return out;
  }

  private line(line: string): SseMessage | null {
    if (line === '') {
      if (this.data.length === 0 && this.event === '') return null;
      const message = { event: this.event || 'message', data: this.data.join('\n') };
      this.event = '';
      this.data = [];
      return message;
    }
    if (line.startsWith(':')) return null;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.event = value;
    else if (field === 'data') this.data.push(value);
    return null;
  }
}
