import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CorralClient, type ErrorBody, type ExecutionResult, type RawAnswer } from '@corral/client';
import { loadRouterConfig } from '@corral/config';
import { REQUEST_FIELDS, SUBMISSION_FIELDS } from '@corral/contracts';
import { REPO_ROOT } from '@corral/devkit';
import { createLogger } from '@corral/service';
import { startRouter } from '../src/lib/router';
import { ip, prefix, redis, registry, router, routerHarness, standIn, startWith, workerPort } from './harness';

/** API keys and their limits, /metrics and /openapi.json: real Redis, stand-in workers. */
const host = 'p1';
routerHarness({ host, prefixName: 'prod', queueTimeoutMs: 200, startEachTest: false });
let dir: string;
const KEY_A = 'a-secret-key-of-alice-0001';
const KEY_B = 'b-secret-key-of-bob-000002';

/** A stand-in worker that answers after `delayMs`, then puts its slot back as a worker does. */
async function slot(i: number, delayMs = 0): Promise<void> {
  await standIn(i, (req, res) => {
    req.resume();
    req.on('end', () =>
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'application/json', 'x-corral-status': 'ok' });
        res.end(JSON.stringify({ id: req.headers['x-request-id'], status: 'ok', exitCode: 0, signal: null, stdout: 'x\n', stderr: '', truncated: false, durationMs: 1, cpuMs: 1, memoryBytes: 1 }));
        void registry.slots.ready(host, `${host}:${i}`, String(req.headers['x-corral-token']), 1, workerPort);
      }, delayMs),
    );
  });
  const slots = (await registry.slots.list(host)).map((s) => ({ id: s.id, ip: s.ip }));
  await registry.slots.publish(host, 'loopback', [...slots, { id: `${host}:${i}`, ip: ip(i) }]);
  await registry.slots.ready(host, `${host}:${i}`, '', 1, workerPort);
}

function client(key?: string, url = router.url): CorralClient {
  return new CorralClient({ baseUrl: url, ...(key ? { apiKey: key } : {}) });
}

/** An execution through @corral/client, its HTTP answer whatever the status. */
function post(key?: string, url = router.url): Promise<RawAnswer<ExecutionResult>> {
  return client(key, url).execute({ code: '1' }, { raw: true });
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'corral-router-keys-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('API keys', () => {
  it('are not asked for when none is configured', async () => {
    await startWith({});
    await slot(0);
    expect((await post()).status).toBe(200);
  });

  it('missing or wrong → 401 with WWW-Authenticate; right → served; health stays open', async () => {
    await startWith({ CORRAL_API_KEYS: `alice:${KEY_A}` });
    await slot(0);
    const missing = await post();
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBe('Bearer');
    expect((missing.body as ErrorBody).error.code).toBe('unauthorized');
    expect((await post('wrong-key-wrong-key-wrong')).status).toBe(401);
    expect((await client().pool({ raw: true })).status).toBe(401);
    expect((await post(KEY_A)).status).toBe(200);
    expect((await client().health({ raw: true })).status).toBe(200);
  });

  it('over its rate → 429 rate_limited with Retry-After; other keys unaffected', async () => {
    const file = join(dir, 'keys.json');
    writeFileSync(file, JSON.stringify([{ name: 'alice', key: KEY_A, ratePerMinute: 2 }, { name: 'bob', key: KEY_B }]));
    await startWith({ CORRAL_API_KEYS_FILE: file });
    await slot(0);
    expect((await post(KEY_A)).status).toBe(200);
    expect((await post(KEY_A)).status).toBe(200);
    const over = await post(KEY_A);
    expect(over.status).toBe(429);
    expect((over.body as ErrorBody).error.code).toBe('rate_limited');
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await post(KEY_B)).status).toBe(200);
  });

  it('over its concurrency → 429 concurrency_limited, counted across routers and released when done', async () => {
    await startWith({ CORRAL_API_KEYS: `alice:${KEY_A}`, CORRAL_KEY_CONCURRENCY: '1', CORRAL_QUEUE_TIMEOUT_MS: '2000' });
    const second = await startRouter(
      loadRouterConfig({ REDIS_URL: redis.url, CORRAL_REDIS_PREFIX: prefix, PORT: '0', CORRAL_API_KEYS: `alice:${KEY_A}`, CORRAL_KEY_CONCURRENCY: '1' }),
      createLogger('router', 'silent'),
    );
    try {
      await slot(0, 300);
      await slot(1, 300);
      const running = post(KEY_A);
      await new Promise((r) => setTimeout(r, 100));
      const other = await post(KEY_A, second.url);
      expect(other.status).toBe(429);
      expect((other.body as ErrorBody).error.code).toBe('concurrency_limited');
      expect((await running).status).toBe(200);
      await new Promise((r) => setTimeout(r, 50));
      expect((await post(KEY_A)).status).toBe(200);
    } finally {
      await second.close();
    }
  });
});

describe('API keys and submissions of many executions', () => {
  async function send(key: string, path: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
    const res = await fetch(`${router.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }
  const tests = (n: number) => Array.from({ length: n }, () => ({ expected: 'x' }));

  it('every test, background execution and batch member counts against the rate, all at once or none', async () => {
    const file = join(dir, 'keys-tests.json');
    writeFileSync(file, JSON.stringify([{ name: 'alice', key: KEY_A, ratePerMinute: 5 }, { name: 'bob', key: KEY_B }]));
    await startWith({ CORRAL_API_KEYS_FILE: file });
    await slot(0);
    const over = await send(KEY_A, '/v1/executions', { code: '1', tests: tests(6) });
    expect(over.status).toBe(429);
    expect((over.body as unknown as ErrorBody).error.code).toBe('rate_limited');
    const ran = await send(KEY_A, '/v1/executions', { code: '1', tests: tests(3) });
    expect(ran.status).toBe(200);
    expect((ran.body['summary'] as { total: number }).total).toBe(3);
    // Two left of five: a batch of three is refused whole, a background pair fits.
    expect((await send(KEY_A, '/v1/batches', { executions: [{ code: '1' }, { code: '2' }, { code: '3' }] })).status).toBe(429);
    const pair = await send(KEY_A, '/v1/executions', { code: '1', tests: tests(2), wait: false });
    expect(pair.status).toBe(202);
    expect((await send(KEY_A, '/v1/executions', { code: '1', wait: false })).status).toBe(429);
    // A key reads and cancels only its own.
    const id = String(pair.body['id']);
    const asBob = await fetch(`${router.url}/v1/executions/${id}`, { headers: { authorization: `Bearer ${KEY_B}` } });
    expect(asBob.status).toBe(404);
    expect((await fetch(`${router.url}/v1/executions/${id}`, { method: 'DELETE', headers: { authorization: `Bearer ${KEY_B}` } })).status).toBe(404);
    expect((await fetch(`${router.url}/v1/executions/${id}`, { headers: { authorization: `Bearer ${KEY_A}` } })).status).toBe(200);
    expect((await fetch(`${router.url}/v1/executions/${id}`)).status).toBe(401);
  });
});

describe('/metrics and /openapi.json', () => {
  it('expose executions by status, latency and queue-wait histograms, pool gauges, kills and proxy errors', async () => {
    await startWith({});
    await slot(0);
    await post();
    await post();
    await registry.jobs.countKill('cpu_limit');
    const text = await (await fetch(`${router.url}/metrics`)).text();
    expect(text).toMatch(/^corral_executions_total\{status="ok"\} 2$/m);
    expect(text).toMatch(/^corral_execution_duration_seconds_count\{status="ok"\} 2$/m);
    expect(text).toMatch(/^corral_queue_wait_seconds_count 2$/m);
    expect(text).toMatch(/^corral_pool_slots\{state="idle"\} 1$/m);
    expect(text).toMatch(/^corral_pool_slots\{state="busy"\} 0$/m);
    expect(text).toMatch(/^corral_watchdog_kills_total\{reason="cpu_limit"\} 1$/m);
    expect(text).toMatch(/^# TYPE corral_proxy_errors_total counter$/m);
    expect(text).toMatch(/^corral_router_process_cpu_seconds_total /m);
  });

  it('count verdicts by status, and show the background queues by state', async () => {
    await startWith({});
    await slot(0);
    const res = await fetch(`${router.url}/v1/executions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ code: '1', tests: [{ expected: 'x' }, { expected: 'x' }, { expected: 'y' }] }),
    });
    expect(((await res.json()) as { summary: unknown }).summary).toEqual({ total: 3, accepted: 2, failed: 1, skipped: 0, status: 'wrong_answer' });
    expect(res.headers.get('x-corral-status')).toBe('wrong_answer');
    const text = await (await fetch(`${router.url}/metrics`)).text();
    expect(text).toMatch(/^corral_test_verdicts_total\{status="accepted"\} 2$/m);
    expect(text).toMatch(/^corral_test_verdicts_total\{status="wrong_answer"\} 1$/m);
    expect(text).toMatch(/^corral_executions_total\{status="wrong_answer"\} 1$/m);
    expect(text).toMatch(/^corral_background_jobs\{queue="executions",state="waiting"\} 0$/m);
    expect(text).toMatch(/^corral_background_jobs\{queue="deliveries",state="delayed"\} 0$/m);
    expect(text).toMatch(/^# TYPE corral_webhook_deliveries_total counter$/m);
  });

  it('counts refusals by their error code', async () => {
    await startWith({});
    await post(); // no slot at all: no_capacity after the deadline
    const text = await (await fetch(`${router.url}/metrics`)).text();
    expect(text).toMatch(/^corral_executions_total\{status="no_capacity"\} 1$/m);
  });

  it('serve an OpenAPI 3.1 document that validates and matches the request the router accepts', async () => {
    await startWith({ CORRAL_API_KEYS: `alice:${KEY_A}` });
    const doc = (await (await fetch(`${router.url}/openapi.json`)).json()) as {
      components: { schemas: { ExecutionRequest: { properties: Record<string, unknown> } } };
    };
    expect(Object.keys(doc.components.schemas.ExecutionRequest.properties).sort()).toEqual([...REQUEST_FIELDS, ...SUBMISSION_FIELDS].sort());
    const file = join(dir, 'openapi.json');
    writeFileSync(file, JSON.stringify(doc));
    const cli = join(REPO_ROOT, 'node_modules', '@seriousme', 'openapi-schema-validator', 'bin', 'validate-api-cli.js');
    const result = spawnSync(process.execPath, [cli, file], { encoding: 'utf8' });
    expect(result.stdout).toMatch(/"valid": true/);
    expect(result.status).toBe(0);
  });
});
