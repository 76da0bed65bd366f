import { connect, type Socket } from 'node:net';

/** An answer as read off the socket. */
export interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** From the first byte sent to the answer's last. */
  ms: number;
}

function parse(bytes: Buffer, started: number): RawAnswer {
  const text = bytes.toString('utf8');
  const end = text.indexOf('\r\n\r\n');
  const [statusLine = '', ...lines] = text.slice(0, end).split('\r\n');
  const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
  return { status: Number(statusLine.split(' ')[1]), headers, body: text.slice(end + 4), ms: Date.now() - started };
}

function open(url: string): Socket {
  const { port, hostname } = new URL(url);
  const socket = connect(Number(port), hostname);
  socket.on('error', () => undefined);
  return socket;
}

/**
 * Writes `bytes` as they are (whatever fetch would refuse to send) and reads one answer: until
 * the router closes the connection, or its Content-Length is in. Rejects after `withinMs`.
 */
export function rawRequest(url: string, bytes: string | Buffer, withinMs: number): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = open(url);
    const chunks: Buffer[] = [];
    const done = (): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(parse(Buffer.concat(chunks), started));
    };
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete answer within ${withinMs} ms (got ${JSON.stringify(Buffer.concat(chunks).toString('utf8').slice(0, 200))})`));
    }, withinMs);
    socket.on('data', (d: Buffer) => {
      chunks.push(d);
      const answer = parse(Buffer.concat(chunks), started);
      const length = Number(answer.headers['content-length']);
      if (Number.isFinite(length) && Buffer.byteLength(answer.body) >= length) done();
    });
    socket.on('close', done);
    socket.write(bytes);
  });
}

/**
 * A client that leaves: writes the head and the first `sendBytes` of `body`, then destroys its
 * socket after `leaveAfterMs`. Resolves when the socket is closed.
 */
export function abandon(url: string, body: string, leaveAfterMs: number, sendBytes = body.length): Promise<void> {
  return new Promise((resolve) => {
    const socket = open(url);
    socket.on('close', () => resolve());
    socket.write(`POST /v1/executions HTTP/1.1\r\nHost: corral\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`);
    socket.write(body.slice(0, sendBytes));
    setTimeout(() => socket.destroy(), leaveAfterMs);
  });
}

/** The head of a POST /v1/executions with these headers. */
export function postHead(headers: Record<string, string | number>): string {
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`);
  return `POST /v1/executions HTTP/1.1\r\nHost: corral\r\n${lines.join('')}\r\n`;
}
