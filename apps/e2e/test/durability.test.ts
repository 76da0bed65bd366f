import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { freePort, startService, waitFor, type ServiceProcess, type Stack } from '@corral/devkit';
import type { ExecutionRecord } from '@corral/contracts';
import { corral, pool, startQuietStack } from './helpers';

/**
 * Background executions answered 202 are never lost and get exactly one final result: not when
 * the router that accepted them is SIGKILLed, not when a worker is SIGKILLed under a job. Each
 * job prints its own index, so a lost, doubled or mixed-up result shows; every one's webhook
 * reaches a loopback receiver.
 */
const JOBS = 100;
const SECRET = 'durability-webhook-secret-0123';
let stack: Stack;
const extra: ServiceProcess[] = [];
let receiver: Server;
const delivered = new Map<string, string[]>();

beforeAll(async () => {
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const id = String(req.headers['x-corral-execution']);
      delivered.set(id, [...(delivered.get(id) ?? []), body]);
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  stack = await startQuietStack(4, {
    // A dead router's entries go to the other after about two seconds.
    CORRAL_ASYNC_LOCK_MS: '2000',
    CORRAL_ASYNC_CONCURRENCY: '4',
    CORRAL_WEBHOOK_ALLOW: `127.0.0.1:${(receiver.address() as AddressInfo).port}`,
    CORRAL_WEBHOOK_SECRET: SECRET,
    CORRAL_WEBHOOK_BACKOFF_MS: '200',
  });
}, 120_000);

afterAll(async () => {
  for (const p of extra) await p.stop();
  await stack?.stop();
  await new Promise((resolve) => receiver?.close(resolve));
});

async function startRouter(): Promise<string> {
  const port = await freePort();
  extra.push(startService('router', [], { ...stack.env, PORT: String(port) }, 'ignore'));
  const url = `http://127.0.0.1:${port}`;
  await waitFor('another router', () => corral(url).health());
  return url;
}

async function record(url: string, id: string): Promise<ExecutionRecord> {
  const res = await fetch(`${url}/v1/executions/${id}`);
  return (await res.json()) as ExecutionRecord;
}

it(`${JOBS} async jobs: the router that accepted them and a worker are SIGKILLed mid-way; every job ends done, once, with its own result`, async () => {
  const survivor = await startRouter();
  const hook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  const ids: string[] = [];
  for (let i = 0; i < JOBS; i += 1) {
    const res = await fetch(`${stack.url}/v1/executions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ code: `setTimeout(() => console.log('job ${i}'), 150)`, wait: false, callbackUrl: hook }),
    });
    expect(res.status).toBe(202);
    ids.push(((await res.json()) as { id: string }).id);
  }
  // Mid-way: some are done, some run on the router about to die.
  await waitFor('a tenth done', async () => (await Promise.all(ids.slice(0, 20).map((id) => record(survivor, id)))).filter((r) => r.state === 'done').length >= 10, {
    timeoutMs: 60_000,
    intervalMs: 100,
  });
  stack.services.get('router')!.child.kill('SIGKILL');
  // A worker dies under a job: the surviving router's jobs on it are run again elsewhere (here: on its next worker).
  await waitFor('a job running', async () => (await pool(survivor)).busy > 0, { timeoutMs: 30_000, intervalMs: 20 });
  stack.services.get('worker')!.child.kill('SIGKILL');
  await stack.services.get('worker')!.exited;
  extra.push(startService('worker', [], stack.env, 'ignore'));

  const records = await waitFor(
    `all ${JOBS} done`,
    async () => {
      const all = await Promise.all(ids.map((id) => record(survivor, id)));
      return all.every((r) => r.state === 'done') ? all : null;
    },
    { timeoutMs: 180_000, intervalMs: 500 },
  );
  records.forEach((r, i) => {
    expect(r.error).toBeUndefined();
    expect(r.result).toMatchObject({ id: ids[i], status: 'ok', stdout: `job ${i}\n` });
    expect(r.attempts).toBeGreaterThanOrEqual(1);
  });
  // Some were taken up again (their router or worker died under them), and said so.
  expect(records.some((r) => r.attempts > 1)).toBe(true);
  // Every webhook delivered; a retry carries the same body (one final result), never another.
  await waitFor('every webhook', () => ids.every((id) => delivered.has(id)), { timeoutMs: 60_000, intervalMs: 200 });
  for (const [i, id] of ids.entries()) {
    const bodies = delivered.get(id)!;
    expect(new Set(bodies).size).toBe(1);
    expect(JSON.parse(bodies[0]!)).toMatchObject({ id, state: 'done', result: { stdout: `job ${i}\n` } });
  }
}, 300_000);
