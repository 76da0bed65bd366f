import { waitFor } from '@corral/devkit';
import { expectHealthy, pool, run, startHostile, type Hostile } from './helpers';
import { abandon, postHead, rawRequest, type RawAnswer } from './raw-http';

/**
 * Hostile clients, from the host's side: requests abandoned at every moment, and input no client
 * should send. Nothing a client does may strand a slot; every bad request gets its catalogue code
 * within a second, in a bounded JSON answer.
 */
let h: Hostile;
const HEADERS_TIMEOUT_MS = 1000;
const BODY_TIMEOUT_MS = 2000;

beforeAll(async () => {
  h = await startHostile({ env: { CORRAL_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS), CORRAL_BODY_TIMEOUT_MS: String(BODY_TIMEOUT_MS) } });
});
afterAll(async () => {
  await h?.stop();
});

/** Jobs of every length a client may leave: done at once, waiting, burning CPU, never ending. */
const JOBS = [
  { code: 'console.log("hello")' },
  { code: 'setTimeout(() => console.log("late"), 300)' },
  { code: 'const t = Date.now(); while (Date.now() - t < 200) {}' },
  { code: 'while (true) {}', timeoutMs: 5000 },
].map((job) => JSON.stringify(job));

const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!;

function errorOf(answer: RawAnswer): { code: string; message: string } {
  return (JSON.parse(answer.body) as { error: { code: string; message: string } }).error;
}

describe('clients that leave', () => {
  it('500 requests abandoned at random moments in bursts: the pool is idle and consistent within 3 s, and a new request runs at once', async () => {
    const total = h.slots.length;
    for (let burst = 0; burst < 10; burst += 1) {
      await Promise.all(
        Array.from({ length: 50 }, (_, n) => {
          const body = pick(JOBS);
          // One in five leaves before its body ends; the others at any moment after: queued, handed over, running.
          return n % 5 === 0 ? abandon(h.url, body, Math.random() * 20, body.length >> 1) : abandon(h.url, body, Math.random() * 400);
        }),
      );
    }
    await waitFor(
      `all ${total} slots idle and the pool consistent`,
      async () => {
        const now = await pool(h.url);
        return now.idle === total && now.consistent;
      },
      { timeoutMs: 3000, intervalMs: 25 },
    );
    const hello = await run(h, { code: 'console.log("after")' });
    expect(hello.body).toMatchObject({ status: 'ok', stdout: 'after\n' });
    expect(hello.ms).toBeLessThan(2000);
  });
});

describe('bad input gets its code within a second', () => {
  const WITHIN_MS = 1000;

  it('250 000 unknown keys (2.76 MiB): 400 naming five of them, in a small answer', async () => {
    const body = `{"code":"1",${Array.from({ length: 250_000 }, (_, i) => `"k${i}":0`).join(',')}}`;
    const answer = await rawRequest(h.url, `${postHead({ 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })}${body}`, WITHIN_MS);
    expect(answer.status).toBe(400);
    expect(answer.body.length).toBeLessThan(2048);
    expect(errorOf(answer)).toMatchObject({ code: 'invalid_request', message: expect.stringContaining('"k0", "k1", "k2", "k3", "k4" and 249995 more') });
  });

  it('Content-Encoding gzip on a plain body: 415', async () => {
    const body = '{"code":"1"}';
    const answer = await rawRequest(h.url, `${postHead({ 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': body.length })}${body}`, WITHIN_MS);
    expect(answer.status).toBe(415);
    expect(errorOf(answer).code).toBe('unsupported_media_type');
  });

  it('a Content-Length over the body limit: 413 at once, without the body', async () => {
    const answer = await rawRequest(h.url, `${postHead({ 'content-type': 'application/json', 'content-length': 1024 ** 3 })}{"code":"`, WITHIN_MS);
    expect(answer.status).toBe(413);
    expect(errorOf(answer).code).toBe('payload_too_large');
  });

  it.each([
    ['a request line that is not HTTP', 'DELETE-EVERYTHING please\r\n\r\n', 400, 'invalid_request'],
    ['Content-Length and chunked together', `${postHead({ 'content-length': 5, 'transfer-encoding': 'chunked' })}0\r\n\r\n`, 400, 'invalid_request'],
    ['a NUL in a header', 'GET /healthz HTTP/1.1\r\nHost: corral\r\nX-A: a\0b\r\n\r\n', 400, 'invalid_request'],
    ['64 KiB of headers', `GET /healthz HTTP/1.1\r\nHost: corral\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`, 431, 'headers_too_large'],
  ])('what the HTTP parser refuses gets the JSON error body: %s', async (_what, request, status, code) => {
    const answer = await rawRequest(h.url, request, WITHIN_MS);
    expect(answer.status).toBe(status);
    expect(answer.headers['content-type']).toMatch(/^application\/json/);
    expect(errorOf(answer).code).toBe(code);
  });

  it('headers and bodies that never arrive: 408 with the JSON body, a second after their timeout', async () => {
    const [headers, body] = await Promise.all([
      rawRequest(h.url, 'POST /v1/executions HTTP/1.1\r\nHost: corral\r\n', HEADERS_TIMEOUT_MS + WITHIN_MS),
      rawRequest(h.url, `${postHead({ 'content-type': 'application/json', 'content-length': 100 })}{"code":`, BODY_TIMEOUT_MS + WITHIN_MS),
    ]);
    expect([headers.status, errorOf(headers).code]).toEqual([408, 'request_timeout']);
    expect([body.status, errorOf(body).code]).toEqual([408, 'request_timeout']);
    expect(headers.ms).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - 50);
    expect(body.ms).toBeGreaterThanOrEqual(BODY_TIMEOUT_MS - 50);
  });

  it('the stack is healthy afterwards: every slot back, a hello world on each at once', async () => {
    await expectHealthy(h);
  });
});
