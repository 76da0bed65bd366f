import type { IncomingMessage } from 'node:http';
import { CorralClient, type ErrorBody, type ExecutionRequest, type ExecutionResult, type PoolAnswer, type RawAnswer } from '@corral/client';
import { TOKEN_HEADER } from '@corral/contracts';
import { waitFor } from '@corral/devkit';
import type { Registry } from '@corral/registry';
import { registry, router, routerHarness, slots, standIn, startWith, workerPort } from './harness';

/**
 * The router against a real Redis, with stand-in workers: small HTTP servers that answer the
 * worker contract in ways a real worker rarely does on demand (refuse, reset, stall).
 */
const host = 'r1';
routerHarness({ host, prefixName: 'router', queueTimeoutMs: 300 });
let received: { headers: IncomingMessage['headers']; body: unknown }[] = [];

/**
 * reset: drops the connection without starting the job; start-reset: uses up the token (starts
 * the job), then drops it; cut-answer: starts an answer and dies in the middle of it; busy:
 * refuses the job as slot_busy (still busy with the one before).
 */
type Behaviour = 'answer' | 'reset' | 'start-reset' | 'stall' | 'cut-answer' | 'busy';
/** The client port of every connection a stand-in accepted. */
let connections: number[] = [];

async function standInWorker(i: number, behaviour: Behaviour): Promise<void> {
  const server = await standIn(i, (req, res) => {
    let text = '';
    req.on('data', (d: Buffer) => (text += d.toString()));
    req.on('end', async (): Promise<unknown> => {
      received.push({ headers: req.headers, body: JSON.parse(text) });
      if (behaviour === 'reset') return req.socket.destroy();
      if (behaviour === 'start-reset') {
        expect(await startJob(i, req.headers[TOKEN_HEADER] as string)).toBe('started');
        return req.socket.destroy();
      }
      if (behaviour === 'stall') return; // never answers
      if (behaviour === 'busy') {
        res.writeHead(409, { 'content-type': 'application/json', 'x-corral-error': 'slot_busy' });
        return res.end(JSON.stringify({ error: { code: 'slot_busy', message: 'busy' } }));
      }
      if (behaviour === 'cut-answer') {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000', 'x-corral-status': 'ok' });
        res.write('{"id":"x",');
        return setTimeout(() => req.socket.destroy(), 50);
      }
      res.writeHead(200, { 'content-type': 'application/json', 'x-corral-status': 'ok' });
      return res.end(JSON.stringify({ id: 'x', status: 'ok', stdout: `slot ${i}\n` }));
    });
  });
  server.on('connection', (socket) => connections.push(socket.remotePort ?? 0));
}

/** What a worker does to start a job on slot i: uses up the lease's token. */
function startJob(i: number, token: string): ReturnType<Registry['jobs']['start']> {
  const entry = { slotId: `${host}:${i}`, token, pid: 1, pgid: 1, cpuBaseMs: 0, cpuMs: 1000, memoryMb: 64, startedAt: Date.now() };
  return registry.jobs.start(host, entry, 60_000);
}

function client(options: { apiKey?: string; headers?: Record<string, string> } = {}): CorralClient {
  return new CorralClient({ baseUrl: router.url, ...options });
}

/** An execution through @corral/client, its HTTP answer whatever the status. */
function post(body: ExecutionRequest, options: { apiKey?: string; headers?: Record<string, string> } = {}): Promise<RawAnswer<ExecutionResult>> {
  return client(options).execute(body, { raw: true });
}

/** A body sent as it is: malformed on purpose, which the client never sends. */
function postRaw(body: string): Promise<Response> {
  return fetch(`${router.url}/v1/executions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
}

beforeEach(() => {
  received = [];
  connections = [];
});

describe('router (real Redis, stand-in workers)', () => {
  it('answers health, and readiness only with an idle slot', async () => {
    expect(await client().health()).toEqual({ status: 'ok' });
    const notReady = await client().ready({ raw: true });
    expect(notReady.status).toBe(503);
    expect((notReady.body as ErrorBody).error.code).toBe('unavailable');
    await standInWorker(0, 'answer');
    await slots(1);
    expect((await client().ready({ raw: true })).status).toBe(200);
    const pool: PoolAnswer = await client().pool();
    expect(pool).toMatchObject({ idle: 1, total: 1, queued: 0 });
    expect(pool.slots).toHaveLength(1);
  });

  it('hands the worker the validated job with defaults, its token, and none of the client credentials', async () => {
    await standInWorker(0, 'answer');
    await slots(1);
    const res = await post({ code: 'console.log(1)' }, { apiKey: 'secret', headers: { cookie: 'a=b' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.body).toMatchObject({ status: 'ok', stdout: 'slot 0\n' });
    expect(received).toHaveLength(1);
    expect(received[0]!.body).toEqual({
      language: 'javascript',
      files: [{ name: 'main.js', content: 'console.log(1)', encoding: 'utf8' }],
      entry: 'main.js',
      collect: [],
      stdin: '',
      args: [],
      timeoutMs: 5000,
      cpuMs: 5000,
      memoryMb: 128,
    });
    expect(received[0]!.headers[TOKEN_HEADER]).toEqual(expect.any(String));
    expect(received[0]!.headers['authorization']).toBeUndefined();
    expect(received[0]!.headers['cookie']).toBeUndefined();
  });

  it.each([
    ['{not json', 400, 'invalid_json'],
    ['[1,2]', 400, 'invalid_request'],
    [JSON.stringify({ code: 7 }), 400, 'invalid_request'],
    [JSON.stringify({ stdin: 'x' }), 400, 'invalid_request'],
    ['', 400, 'invalid_json'],
  ])('rejects body %j with %i %s and keeps serving', async (body, status, code) => {
    const res = await postRaw(body);
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe(code);
    expect((await client().health({ raw: true })).status).toBe(200);
  });

  it('answers 413 for a body over the limit, and for code over its own limit', async () => {
    await startWith({ CORRAL_MAX_BODY_BYTES: '2048', CORRAL_MAX_CODE_BYTES: '100' });
    const big = await post({ code: 'x'.repeat(5000) });
    expect(big.status).toBe(413);
    expect((big.body as ErrorBody).error.code).toBe('payload_too_large');
    expect((await post({ code: 'y'.repeat(200) })).status).toBe(413);
  });

  it('answers 404 and 405 as JSON', async () => {
    const missing = await fetch(`${router.url}/nowhere`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('not_found');
    expect((await fetch(`${router.url}/v1/executions`)).status).toBe(405);
  });

  it('answers 503 with Retry-After when no slot frees up within the queue deadline', async () => {
    const started = Date.now();
    const res = await post({ code: '1' });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    expect((res.body as ErrorBody).error.code).toBe('no_capacity');
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
  });

  it('answers 429 when the queue is full', async () => {
    await startWith({ CORRAL_MAX_QUEUE: '1', CORRAL_QUEUE_TIMEOUT_MS: '1000' });
    const first = post({ code: '1' });
    await new Promise((r) => setTimeout(r, 100));
    const second = await post({ code: '1' });
    expect(second.status).toBe(429);
    expect((second.body as ErrorBody).error.code).toBe('queue_full');
    expect((await first).status).toBe(503);
  });

  it('serves a waiting request as soon as a slot turns idle', async () => {
    await startWith({ CORRAL_QUEUE_TIMEOUT_MS: '5000' });
    await standInWorker(0, 'answer');
    const pending = post({ code: '1' });
    await new Promise((r) => setTimeout(r, 200));
    await slots(1);
    const res = await pending;
    expect(res.status).toBe(200);
  });

  it('retries on another slot when a worker refuses the connection, and marks that slot dead', async () => {
    await standInWorker(1, 'answer'); // slot 0 has no worker listening
    await slots(2);
    const res = await post({ code: '1' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ stdout: 'slot 1\n' });
    const pool = await registry.slots.pool();
    expect(pool.slots.find((s) => s.id === `${host}:0`)?.state).toBe('dead');
  });

  it('gives back the claim on a slot whose worker refused the job as busy, and runs it on another', async () => {
    await standInWorker(0, 'busy');
    await standInWorker(1, 'answer');
    await slots(2);
    const res = await post({ code: '1' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ stdout: 'slot 1\n' });
    // Not claimed for nobody until the claim runs out: idle again at once.
    expect((await registry.slots.pool()).slots.find((s) => s.id === `${host}:0`)?.state).toBe('idle');
  });

  it('never runs a job twice: a worker that fails after starting the job gives a clear 502', async () => {
    await standInWorker(0, 'start-reset');
    await standInWorker(1, 'answer');
    await slots(2);
    const res = await post({ code: '1' });
    expect(res.status).toBe(502);
    expect((res.body as ErrorBody).error.code).toBe('worker_failed');
    expect(received).toHaveLength(1);
    expect((await registry.slots.pool()).slots.find((s) => s.id === `${host}:0`)?.state).toBe('dead');
  });

  it('retries elsewhere when the connection fails before the worker started the job (its token unused)', async () => {
    await standInWorker(0, 'reset');
    await standInWorker(1, 'answer');
    await slots(2);
    const res = await post({ code: '1' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ stdout: 'slot 1\n' });
    expect(received).toHaveLength(2);
    // The claim was given back: the worker can no longer start that job with its token.
    expect(await startJob(0, received[0]!.headers[TOKEN_HEADER] as string)).not.toBe('started');
  });

  it('cuts the client\'s answer when the worker dies in the middle of it, rather than leaving it hanging', async () => {
    await standInWorker(0, 'cut-answer');
    await slots(1);
    // Raw fetch: the client would turn the cut answer into its own error before we could see the 200.
    const res = await postRaw(JSON.stringify({ code: '1' }));
    expect(res.status).toBe(200);
    await expect(res.text()).rejects.toThrow();
  });

  it('gives back a claim that outlived its lease by itself, without waiting for a request', async () => {
    await slots(2);
    // Claims of a router that died: nobody will give them back.
    await registry.queue.claim(200, 'a-router-that-died');
    await registry.queue.claim(200, 'a-router-that-died');
    expect((await registry.slots.pool()).idle).toBe(0);
    await waitFor('both slots idle again', async () => (await registry.slots.pool()).idle === 2, { timeoutMs: 3000, intervalMs: 50 });
    expect((await registry.slots.pool()).problems).toEqual([]);
  });

  it('keeps its connection to a slot open between jobs', async () => {
    await standInWorker(0, 'answer');
    await slots(1);
    for (let n = 0; n < 3; n += 1) {
      expect((await post({ code: '1' })).status).toBe(200);
      await registry.slots.ready(host, `${host}:0`, received[n]!.headers[TOKEN_HEADER] as string, 1, workerPort);
    }
    expect(received).toHaveLength(3);
    expect(connections).toHaveLength(1);
  });

  it('closes gracefully: waiting requests get 503 shutting_down', async () => {
    await startWith({ CORRAL_QUEUE_TIMEOUT_MS: '5000' });
    const waiting = post({ code: '1' });
    await new Promise((r) => setTimeout(r, 100));
    await router.close();
    const res = await waiting;
    expect(res.status).toBe(503);
    expect((res.body as ErrorBody).error.code).toBe('shutting_down');
    await startWith();
  });
});
