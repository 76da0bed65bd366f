import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { freePort, waitFor, type Stack } from '@corral/devkit';
import type { BatchAccepted, BatchRecord, ExecutionRecord, ExecutionResult, TestsResult } from '@corral/contracts';
import { pool, startQuietStack } from './helpers';

/**
 * Judging and background work against the real stack: tests with verdicts, each in a process
 * of its own; async executions, cancels, batches; signed webhooks to a loopback receiver.
 */
const SECRET = 'judging-webhook-secret-0123456789';
let stack: Stack;
let receiver: Receiver;
let refusedPort: number;

interface Delivery {
  headers: IncomingHttpHeaders;
  body: string;
}

interface Receiver {
  url: string;
  deliveries: Delivery[];
  /** How many of the next deliveries are answered 500. */
  failNext: number;
  server: Server;
}

async function startReceiver(): Promise<Receiver> {
  const r: Receiver = { url: '', deliveries: [], failNext: 0, server: createServer() };
  r.server.on('request', (req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      r.deliveries.push({ headers: req.headers, body });
      if (r.failNext > 0) {
        r.failNext -= 1;
        res.writeHead(500).end('not now');
      } else res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => r.server.listen(0, '127.0.0.1', resolve));
  r.url = `http://127.0.0.1:${(r.server.address() as AddressInfo).port}/hook`;
  return r;
}

async function call<T>(method: string, path: string, body?: unknown): Promise<{ status: number; headers: Headers; body: T }> {
  const res = await fetch(`${stack.url}${path}`, {
    method,
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as T };
}

const post = <T>(path: string, body: unknown) => call<T>('POST', path, body);

async function settled(id: string, timeoutMs = 30_000): Promise<ExecutionRecord> {
  return waitFor(
    `execution ${id} to end`,
    async () => {
      const { body } = await call<ExecutionRecord>('GET', `/v1/executions/${id}`);
      return body.state === 'done' || body.state === 'cancelled' ? body : null;
    },
    { timeoutMs, intervalMs: 100 },
  );
}

beforeAll(async () => {
  receiver = await startReceiver();
  refusedPort = await freePort();
  const allowed = new URL(receiver.url).port;
  stack = await startQuietStack(4, {
    CORRAL_WEBHOOK_ALLOW: `127.0.0.1:${allowed}`,
    CORRAL_WEBHOOK_SECRET: SECRET,
    CORRAL_WEBHOOK_BACKOFF_MS: '100',
    CORRAL_MAX_TESTS: '60',
    CORRAL_MAX_BATCH: '20',
    // Four background executions at once: as many as there are slots.
    CORRAL_ASYNC_CONCURRENCY: '4',
  });
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  await new Promise((resolve) => receiver?.server.close(resolve));
});

afterEach(async () => {
  await waitFor('every slot idle again', async () => (await pool(stack.url)).idle === 4, { timeoutMs: 15_000 });
});

describe('tests with verdicts', () => {
  it('50 tests on 4 slots: 50 verdicts, each test in a fresh process of its own', async () => {
    // Each test doubles its input; a global or a file left by another test in the same process would show.
    const code = `
      const fs = require('fs');
      const leftover = globalThis.__corralSeen || fs.existsSync('seen');
      globalThis.__corralSeen = true; fs.writeFileSync('seen', '1');
      const n = Number(fs.readFileSync(0, 'utf8'));
      console.log(leftover ? 'SHARED' : n * 2);`;
    const tests = Array.from({ length: 50 }, (_, i) => ({ stdin: String(i), expected: i === 7 ? '999' : String(i * 2) }));
    const { status, body } = await post<TestsResult>('/v1/executions', { code, tests });
    expect(status).toBe(200);
    expect(body.tests).toHaveLength(50);
    expect(body.tests.map((t) => t.index)).toEqual(tests.map((_, i) => i));
    for (const t of body.tests) expect(t.status).toBe(t.index === 7 ? 'wrong_answer' : 'accepted');
    expect(body.tests.every((t) => 'stdout' in t && !t.stdout.includes('SHARED'))).toBe(true);
    expect(new Set(body.tests.map((t) => ('id' in t ? t.id : '')))).toHaveProperty('size', 50);
    expect(body.summary).toEqual({ total: 50, accepted: 49, failed: 1, skipped: 0, status: 'wrong_answer' });
  });

  it('the four comparisons, and tests without expected output', async () => {
    const code = 'process.stdout.write(require("fs").readFileSync(0, "utf8"))';
    const cases: [unknown, string, string, string][] = [
      ['exact', '1 2\n', '1 2\n', 'accepted'],
      ['exact', '1 2 \n', '1 2\n', 'wrong_answer'],
      ['trim', '1 2  \r\n3\n\n', '1 2\n3', 'accepted'],
      ['trim', ' 1 2\n', '1 2\n', 'wrong_answer'],
      ['tokens', '1\n 2\t3', '1 2 3', 'accepted'],
      ['tokens', '1 2', '1 2 3', 'wrong_answer'],
      [{ float: 1e-6 }, '0.3333333 x\n', '0.33333333 x', 'accepted'],
      [{ float: 1e-6 }, '0.334', '0.333', 'wrong_answer'],
    ];
    for (const [compare, stdin, expected, verdict] of cases) {
      const { body } = await post<TestsResult>('/v1/executions', { code, compare, tests: [{ stdin, expected }] });
      expect({ compare, stdin, status: body.tests[0]?.status }).toEqual({ compare, stdin, status: verdict });
    }
    const { body } = await post<TestsResult>('/v1/executions', { code: 'process.exit(Number(process.argv[2]))', tests: [{ args: ['0'] }, { args: ['3'] }] });
    expect(body.tests.map((t) => t.status)).toEqual(['ok', 'error']);
    expect(body.summary).toMatchObject({ accepted: 1, failed: 1, status: 'error' });
  });

  it('stopOnFailure: tests not yet started once one failed are skipped', async () => {
    const tests = Array.from({ length: 12 }, (_, i) => ({ stdin: String(i), expected: i === 1 ? 'nope' : String(i) }));
    const { body } = await post<TestsResult>('/v1/executions', { code: 'console.log(require("fs").readFileSync(0, "utf8"))', tests, stopOnFailure: true });
    expect(body.tests[1]?.status).toBe('wrong_answer');
    const skipped = body.tests.filter((t) => t.status === 'skipped');
    expect(skipped.length).toBeGreaterThan(0);
    // Tests start in index order: every skipped one comes after every one that ran.
    const lastRan = Math.max(...body.tests.filter((t) => t.status !== 'skipped').map((t) => t.index));
    expect(Math.min(...skipped.map((t) => t.index))).toBeGreaterThan(1);
    expect(skipped.every((t) => t.index > 1)).toBe(true);
    expect(lastRan).toBeLessThan(12);
    expect(body.summary).toMatchObject({ total: 12, status: 'wrong_answer', skipped: skipped.length });
  });
});

describe('async executions', () => {
  it('wait: false answers 202 with a Location; GET gives its state, then its result', async () => {
    const accepted = await post<{ id: string; state: string }>('/v1/executions', { code: 'setTimeout(() => console.log("later"), 300)', wait: false });
    expect(accepted.status).toBe(202);
    expect(accepted.body).toEqual({ id: expect.any(String), state: 'queued' });
    expect(accepted.headers.get('location')).toBe(`/v1/executions/${accepted.body.id}`);
    const done = await settled(accepted.body.id);
    expect(done).toMatchObject({ id: accepted.body.id, state: 'done', attempts: 1, result: { id: accepted.body.id, status: 'ok', stdout: 'later\n' } });
    // Tests in the background too.
    const tests = await post<{ id: string }>('/v1/executions', { code: 'console.log(1)', tests: [{ expected: '1' }, { expected: '2' }], wait: false });
    expect((await settled(tests.body.id)).result).toMatchObject({ summary: { accepted: 1, failed: 1, status: 'wrong_answer' } });
  });

  it('cancel: a queued execution never starts; a running one is stopped within a second', async () => {
    // Background work leaves one of the four slots to clients: three long jobs hold all that
    // background work may take, and the next one waits.
    const long = await Promise.all(Array.from({ length: 3 }, () => post<{ id: string }>('/v1/executions', { code: 'while (true) {}', timeoutMs: 20_000, cpuMs: 20_000, wait: false })));
    await waitFor('three running', async () => (await pool(stack.url)).busy === 3, { timeoutMs: 15_000 });
    // The slot kept back still serves a blocking call at once.
    const blocking = await post<ExecutionResult>('/v1/executions', { code: 'console.log("served")' });
    expect(blocking.body).toMatchObject({ status: 'ok', stdout: 'served\n' });
    const queued = await post<{ id: string }>('/v1/executions', { code: 'console.log("ran")', wait: false });
    const cancelledQueued = await call<ExecutionRecord>('DELETE', `/v1/executions/${queued.body.id}`);
    expect(cancelledQueued.status).toBe(200);
    // A router may have taken it up (attempts 1) while it waits for a slot; it never started.
    expect(cancelledQueued.body.state).toBe('cancelled');
    expect(cancelledQueued.body.attempts).toBeLessThanOrEqual(1);
    expect(cancelledQueued.body.startedAt).toBeUndefined();
    const started = Date.now();
    for (const { body } of long) expect((await call<ExecutionRecord>('DELETE', `/v1/executions/${body.id}`)).status).toBe(200);
    for (const { body } of long) expect(await settled(body.id, 5000)).toMatchObject({ state: 'cancelled', attempts: 1 });
    await waitFor('the slots back', async () => (await pool(stack.url)).idle === 4, { timeoutMs: 5000 });
    const tookMs = Date.now() - started;
    expect(tookMs).toBeLessThan(5000);
    // Cancelled, the queued one stays so: it never got a result.
    await new Promise((r) => setTimeout(r, 500));
    const after = await settled(queued.body.id);
    expect(after.state).toBe('cancelled');
    expect(after.startedAt).toBeUndefined();
    expect((await call<ExecutionRecord>('GET', `/v1/executions/${queued.body.id}`)).body.result).toBeUndefined();
    // Cancelling what has ended changes nothing.
    expect((await call<ExecutionRecord>('DELETE', `/v1/executions/${queued.body.id}`)).body.state).toBe('cancelled');
  });

  it('a batch of 20: every member runs, each with its own result', async () => {
    const executions = Array.from({ length: 20 }, (_, i) => ({ code: `console.log(${i} * 3)` }));
    const accepted = await post<BatchAccepted>('/v1/batches', { executions });
    expect(accepted.status).toBe(202);
    expect(accepted.body.executions).toHaveLength(20);
    const batch = await waitFor(
      'the batch done',
      async () => {
        const { body } = await call<BatchRecord>('GET', `/v1/batches/${accepted.body.id}`);
        return body.states.done === 20 ? body : null;
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    expect(batch.executions.map((e) => e.id)).toEqual(accepted.body.executions);
    batch.executions.forEach((e, i) => expect(e).toMatchObject({ state: 'done', batchId: accepted.body.id, result: { status: 'ok', stdout: `${i * 3}\n` } }));
  });
});

describe('webhooks', () => {
  it('signed, retried with the same idempotency key until delivered, recorded', async () => {
    receiver.failNext = 2;
    receiver.deliveries.length = 0;
    const accepted = await post<{ id: string }>('/v1/executions', { code: 'console.log("hooked")', wait: false, callbackUrl: receiver.url });
    expect(accepted.status).toBe(202);
    const record = await waitFor(
      'the webhook delivered',
      async () => {
        const { body } = await call<ExecutionRecord>('GET', `/v1/executions/${accepted.body.id}`);
        return body.webhook?.state === 'delivered' ? body : null;
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    expect(receiver.deliveries).toHaveLength(3);
    const keys = new Set(receiver.deliveries.map((d) => d.headers['idempotency-key']));
    expect(keys.size).toBe(1);
    expect([...keys][0]).toBe(record.webhook?.deliveryId);
    for (const d of receiver.deliveries) {
      expect(d.headers['x-corral-signature']).toBe(`sha256=${createHmac('sha256', SECRET).update(d.body).digest('hex')}`);
      expect(d.body).toBe(receiver.deliveries[0]?.body);
      expect(JSON.parse(d.body)).toMatchObject({ id: accepted.body.id, state: 'done', result: { stdout: 'hooked\n' } });
    }
    expect(record.webhook?.attempts.map((a) => [a.attempt, a.httpStatus, a.ok])).toEqual([
      [1, 500, false],
      [2, 500, false],
      [3, 204, true],
    ]);
  });

  it('a blocking call with a callback answers and delivers too', async () => {
    receiver.deliveries.length = 0;
    const { status, body } = await post<{ id: string; stdout: string }>('/v1/executions', { code: 'console.log("both")', callbackUrl: receiver.url });
    expect(status).toBe(200);
    expect(body.stdout).toBe('both\n');
    await waitFor('the webhook', () => receiver.deliveries.length === 1, { timeoutMs: 15_000 });
    expect(JSON.parse(receiver.deliveries[0]!.body)).toMatchObject({ id: body.id, state: 'done', result: { stdout: 'both\n' } });
  });

  it.each([
    ['a loopback port the allow-list does not name', () => `http://127.0.0.1:${refusedPort}/hook`],
    ['another loopback address', () => receiver.url.replace('127.0.0.1', '127.0.0.2')],
    ['a cloud metadata address', () => 'http://169.254.169.254/latest/meta-data'],
    ['a name resolving to a loopback port the allow-list does not name', () => `http://localhost:${refusedPort}/hook`],
  ])('a callback to %s is refused at submission, and nothing is queued', async (_what, url) => {
    const before = receiver.deliveries.length;
    const { status, body } = await post<{ error: { code: string } }>('/v1/executions', { code: 'console.log(1)', wait: false, callbackUrl: url() });
    expect(status).toBe(400);
    expect(body.error.code).toBe('callback_refused');
    await new Promise((r) => setTimeout(r, 300));
    expect(receiver.deliveries.length).toBe(before);
  });
});

describe('bad input: its code, nothing queued', () => {
  it.each([
    [{ code: 'x', tests: Array.from({ length: 61 }, () => ({})) }, 413, 'payload_too_large'],
    [{ code: 'x', tests: [{}], compare: 'fuzzy' }, 400, 'invalid_request'],
    [{ code: 'x', tests: [{}], compare: { float: -1 } }, 400, 'invalid_request'],
    [{ code: 'x', wait: 'no' }, 400, 'invalid_request'],
    [{ code: 'x', callbackUrl: 'ftp://127.0.0.1/x' }, 400, 'invalid_request'],
    [{ code: 'x', tests: 'many' }, 400, 'invalid_request'],
  ])('POST /v1/executions %j', async (body, status, code) => {
    const answer = await post<{ error: { code: string } }>('/v1/executions', body);
    expect([answer.status, answer.body.error.code]).toEqual([status, code]);
  });

  it('ids: unknown 404, malformed 400; batches: too many members, a member with wait', async () => {
    expect((await call<{ error: { code: string } }>('GET', '/v1/executions/00000000-0000-4000-8000-000000000000')).status).toBe(404);
    expect((await call<{ error: { code: string } }>('DELETE', '/v1/executions/00000000-0000-4000-8000-000000000000')).status).toBe(404);
    const malformed = await call<{ error: { code: string } }>('GET', '/v1/executions/not-an-id');
    expect([malformed.status, malformed.body.error.code]).toEqual([400, 'invalid_id']);
    const many = await post<{ error: { code: string } }>('/v1/batches', { executions: Array.from({ length: 21 }, () => ({ code: 'x' })) });
    expect([many.status, many.body.error.code]).toEqual([413, 'payload_too_large']);
    const waiting = await post<{ error: { code: string; message: string } }>('/v1/batches', { executions: [{ code: 'x' }, { code: 'y', wait: true }] });
    expect([waiting.status, waiting.body.error.code]).toEqual([400, 'invalid_request']);
    expect(waiting.body.error.message).toMatch(/executions\[1\]/);
    expect((await call<{ error: { code: string } }>('GET', '/v1/batches/00000000-0000-4000-8000-000000000000')).status).toBe(404);
  });
});
