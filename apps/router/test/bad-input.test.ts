import { connect } from 'node:net';
import { gzipSync } from 'node:zlib';
import { router, routerHarness, slots, standIn, startWith } from './harness';

/**
 * Requests no client should send, on raw sockets where fetch would not send them: each gets its
 * catalogue code and the JSON error body, at once, in a bounded answer.
 */
routerHarness({ host: 'b1', prefixName: 'bad', queueTimeoutMs: 300 });

interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** From the first byte sent to the connection's close. */
  ms: number;
}

/**
 * Sends `head` (and `body`), and reads until the answer is whole (its headers and the body its
 * Content-Length promises), the router closes the connection, or `giveUpMs` passes. A refused
 * body may still be read and thrown away after the answer, so the answer is not waited for by
 * the connection's close.
 */
function raw(head: string, body: string | Buffer = '', giveUpMs = 5000): Promise<RawAnswer> {
  const { port, hostname } = new URL(router.url);
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    let done = false;
    const parse = (): RawAnswer | null => {
      const text = Buffer.concat(chunks).toString('utf8');
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) return null;
      const [statusLine = '', ...lines] = text.slice(0, end).split('\r\n');
      const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
      const bodyText = text.slice(end + 4);
      const length = Number(headers['content-length'] ?? NaN);
      if (Number.isFinite(length) && Buffer.byteLength(bodyText) < length) return null;
      return { status: Number(statusLine.split(' ')[1]), headers, body: bodyText, ms: Date.now() - started };
    };
    const finish = (answer: RawAnswer | null): void => {
      if (done || !answer) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within ${giveUpMs} ms`));
    }, giveUpMs);
    socket.on('data', (d: Buffer) => {
      chunks.push(d);
      finish(parse());
    });
    socket.on('error', () => undefined);
    socket.on('close', () => finish(parse() ?? { status: 0, headers: {}, body: Buffer.concat(chunks).toString('utf8'), ms: Date.now() - started }));
    socket.write(head);
    if (body.length > 0) socket.write(body);
  });
}

function code(answer: RawAnswer): string {
  return (JSON.parse(answer.body) as { error: { code: string } }).error.code;
}

const post = (headers: Record<string, string | number>): string =>
  `POST /v1/executions HTTP/1.1\r\nHost: x\r\n${Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('')}\r\n`;

/** One slot whose stand-in worker answers after `delayMs`. */
async function slowSlot(delayMs: number): Promise<void> {
  await standIn(0, (req, res) => {
    req.resume();
    req.on('end', () =>
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'application/json', 'x-corral-status': 'ok' });
        res.end(JSON.stringify({ status: 'ok' }));
      }, delayMs),
    );
  });
  await slots(1);
}

describe('bad input (real sockets, real Redis)', () => {
  it('250 000 unknown keys: a small 400 that names five of them and counts the rest', async () => {
    const body = `{"code":"1",${Array.from({ length: 250_000 }, (_, i) => `"k${i}":0`).join(',')}}`;
    expect(body.length / 2 ** 20).toBeCloseTo(2.76, 1);
    const res = await fetch(`${router.url}/v1/executions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const text = await res.text();
    expect(res.status).toBe(400);
    expect(text.length).toBeLessThan(2048);
    const { error } = JSON.parse(text) as { error: { code: string; message: string; details: { problems: string[] } } };
    expect(error.code).toBe('invalid_request');
    expect(error.message).toContain('unknown fields "k0", "k1", "k2", "k3", "k4" and 249995 more');
    expect(error.details.problems).toHaveLength(1);
  });

  it.each([
    ['a plain body', Buffer.from('{"code":"1"}')],
    ['a real gzip body', gzipSync('{"code":"1"}')],
  ])('Content-Encoding gzip on %s: 415 before the body is read', async (_what, body) => {
    const answer = await raw(post({ 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': body.length }), body);
    expect(answer.status).toBe(415);
    expect(code(answer)).toBe('unsupported_media_type');
    expect(JSON.parse(answer.body)).toMatchObject({ error: { message: expect.stringContaining('"gzip" is not supported') } });
  });

  it('a Content-Length over the body limit: 413 at once, the body never read, the connection closed', async () => {
    const answer = await raw(post({ 'content-type': 'application/json', 'content-length': 100 * 1024 * 1024 }), '{"code":"');
    expect(answer.status).toBe(413);
    expect(code(answer)).toBe('payload_too_large');
    expect(answer.headers['connection']).toBe('close');
    expect(answer.ms).toBeLessThan(1000);
  });

  it('a chunked body that grows past the limit: 413 as soon as it does', async () => {
    await startWith({ CORRAL_MAX_BODY_BYTES: '2048' });
    const chunk = 'x'.repeat(1024);
    const chunks = Array.from({ length: 3 }, () => `${chunk.length.toString(16)}\r\n${chunk}\r\n`).join('');
    const answer = await raw(post({ 'content-type': 'application/json', 'transfer-encoding': 'chunked' }), chunks);
    expect(answer.status).toBe(413);
    expect(code(answer)).toBe('payload_too_large');
  });

  it('fetch with a body over the limit gets the 413 too', async () => {
    await startWith({ CORRAL_MAX_BODY_BYTES: '4096' });
    const res = await fetch(`${router.url}/v1/executions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code: 'x'.repeat(1_000_000) }) });
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('payload_too_large');
  });

  it.each([
    ['a request line that is not HTTP', 'HELLO THERE\r\n\r\n', 400, 'invalid_request'],
    ['both Content-Length and chunked', 'POST /v1/executions HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n', 400, 'invalid_request'],
    ['headers over 16 KiB', `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431, 'headers_too_large'],
  ])('what the HTTP parser refuses gets the JSON error body: %s', async (_what, request, status, errorCode) => {
    const answer = await raw(request);
    expect(answer.status).toBe(status);
    expect(answer.headers['content-type']).toMatch(/^application\/json/);
    expect(code(answer)).toBe(errorCode);
    expect(answer.ms).toBeLessThan(1000);
  });

  it('headers or a body that do not arrive in time: 408 with the JSON body', async () => {
    await startWith({ CORRAL_HEADERS_TIMEOUT_MS: '400', CORRAL_BODY_TIMEOUT_MS: '800' });
    const headers = await raw('POST /v1/executions HTTP/1.1\r\nHost: x\r\n');
    expect(headers.status).toBe(408);
    expect(code(headers)).toBe('request_timeout');
    expect(headers.ms).toBeGreaterThanOrEqual(350);
    expect(headers.ms).toBeLessThan(2000);
    const body = await raw(post({ 'content-type': 'application/json', 'content-length': 20 }), '{"code"');
    expect(body.status).toBe(408);
    expect(code(body)).toBe('request_timeout');
    expect(body.ms).toBeGreaterThanOrEqual(750);
    expect(body.ms).toBeLessThan(2500);
  });

  it('the body timeout bounds the request, never the answer: a job longer than it is answered', async () => {
    await startWith({ CORRAL_HEADERS_TIMEOUT_MS: '300', CORRAL_BODY_TIMEOUT_MS: '500' });
    await slowSlot(1200);
    const res = await fetch(`${router.url}/v1/executions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"code":"1"}' });
    expect(res.status).toBe(200);
  });

  it('keeps serving on the same connection after an answer to a body it read', async () => {
    const body = '{"code":"1","nope":1}';
    const head = `POST /v1/executions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
    const answer = await raw(`${head}${body}GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    expect(answer.status).toBe(400);
    expect(answer.body).toMatch(/HTTP\/1\.1 200 OK[\s\S]*"status":"ok"/);
  });
});
