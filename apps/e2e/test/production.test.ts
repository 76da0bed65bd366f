import { freePort, randomLoopbackBase, runToEnd, startService, waitFor, type ServiceProcess, type Stack } from '@corral/devkit';
import { corral, execute, pool, startQuietStack, type Answer } from './helpers';

/**
 * The production properties, end to end: several
 * routers on one Redis, a worker dying, Redis restarting, a router stopping, all under traffic.
 */
let stack: Stack | undefined;
const extra: ServiceProcess[] = [];

async function newStack(slots = 4, env: Record<string, string> = {}): Promise<Stack> {
  stack = await startQuietStack(slots, env);
  return stack;
}

/** Another router on the same Redis, as a process of its own. */
async function secondRouter(s: Stack): Promise<string> {
  const port = await freePort();
  extra.push(startService('router', [], { ...s.env, PORT: String(port) }, 'ignore'));
  const url = `http://127.0.0.1:${port}`;
  await waitFor('the second router', () => corral(url).health());
  return url;
}

/** A second worker host (netprov, worker, watchdog) on the same Redis. */
async function secondHost(s: Stack, slots: number): Promise<{ host: string; worker: ServiceProcess }> {
  const host = `${s.hostId}-b`;
  const base = randomLoopbackBase();
  const env = { ...s.env, CORRAL_HOST_ID: host, CORRAL_LOOPBACK_BASE: base, CORRAL_WORKER_PORT: String(await freePort(base)) };
  await runToEnd('netprov', ['up', '--count', String(slots)], env);
  const worker = startService('worker', [], env, 'ignore');
  extra.push(worker, startService('watchdog', [], env, 'ignore'));
  return { host, worker };
}

/** A clear answer: a result, or a JSON error with a code (never a hang or an HTML page). */
function clear(answer: Answer<unknown>): boolean {
  const body = answer.body as { status?: string; error?: { code?: string } };
  return answer.status === 200 ? typeof body.status === 'string' : typeof body.error?.code === 'string';
}

afterEach(async () => {
  await Promise.all(extra.splice(0).map((s) => s.stop()));
  await stack?.stop();
  stack = undefined;
});

it('two routers on one Redis share 4 slots under 40 concurrent requests: all answered once, in arrival order', async () => {
  const s = await newStack(4, { CORRAL_QUEUE_TIMEOUT_MS: '30000' });
  const urls = [s.url, await secondRouter(s)];
  // Each job says when it started; arrivals are 15 ms apart, alternating routers.
  const pending: Promise<Answer>[] = [];
  for (let i = 0; i < 40; i += 1) {
    pending.push(execute(urls[i % 2]!, { code: `const t = Date.now(); setTimeout(() => console.log(${i}, t), 150)` }));
    await new Promise((r) => setTimeout(r, 15));
  }
  const answers = await Promise.all(pending);
  expect(answers.map((a) => a.status)).toEqual(Array(40).fill(200));
  const started = answers.map((a) => a.body.stdout.trim().split(' ').map(Number) as [number, number]);
  expect(started.map(([i]) => i)).toEqual(Array.from({ length: 40 }, (_, i) => i)); // each its own result, none twice
  // Tolerance: with 4 slots, a request may start at most 4 places from its place in arrival order.
  const order = [...started].sort((a, b) => a[1] - b[1]).map(([i]) => i);
  order.forEach((request, rank) => expect(Math.abs(rank - request)).toBeLessThanOrEqual(4));
  expect((await pool(s.url)).problems).toEqual([]);
}, 120_000);

it('a worker killed mid-traffic: what had not started is retried elsewhere, what had started gets a clear error, no slot stays claimed', async () => {
  const s = await newStack(2, { CORRAL_QUEUE_TIMEOUT_MS: '20000' });
  await secondHost(s, 2);
  await waitFor('4 idle slots', async () => (await pool(s.url)).idle === 4, { timeoutMs: 20_000 });
  const pending = Array.from({ length: 16 }, (_, i) => execute(s.url, { code: `setTimeout(() => console.log(${i}), 400)` }));
  await new Promise((r) => setTimeout(r, 250));
  s.services.get('worker')!.child.kill('SIGKILL'); // the first host's worker
  const answers = await Promise.all(pending);
  expect(answers.every(clear)).toBe(true);
  const failed = answers.filter((a) => a.status !== 200);
  for (const a of failed) expect((a.body as unknown as { error: { code: string } }).error.code).toBe('worker_failed');
  expect(failed.length).toBeLessThanOrEqual(2); // only what was running on the killed host's 2 slots
  const ok = answers.filter((a) => a.status === 200);
  for (const a of ok) expect(a.body.status).toBe('ok');
  await waitFor('no slot of the dead host claimed, and the pool consistent', async () => {
    const p = await pool(s.url);
    const dead = p.slots.filter((slot) => slot.id.startsWith(`${s.hostId}:`));
    return dead.every((slot) => slot.state === 'dead') && p.problems.length === 0 && p.idle === 2;
  }, { timeoutMs: 15_000 });
}, 120_000);

it('Redis restarted mid-traffic: every request answered clearly, the pool full again within 5 s, nothing lost or doubled', async () => {
  const s = await newStack(4, { CORRAL_QUEUE_TIMEOUT_MS: '8000' });
  const answers: Answer[] = [];
  let running = true;
  const clients = Array.from({ length: 6 }, async (_, c) => {
    for (let i = 0; running; i += 1) answers.push(await execute(s.url, { code: `setTimeout(() => console.log(${c * 1000 + i}), 50)` }));
  });
  await new Promise((r) => setTimeout(r, 800));
  await s.redis!.restart();
  const restarted = Date.now();
  // Full again: all 4 slots known and in service (idle, busy, or booting their next sandbox).
  await waitFor('all 4 slots back in service after the restart', async () => {
    const p = await pool(s.url).catch(() => null);
    return p !== null && p.total === 4 && p.dead === 0 && p.problems.length === 0;
  }, { timeoutMs: 5000, intervalMs: 50 });
  const back = Date.now() - restarted;
  await new Promise((r) => setTimeout(r, 1000));
  running = false;
  await Promise.all(clients);
  expect(back).toBeLessThan(5000);
  // Traffic flowed before and after the restart (how much depends on what else the machine runs).
  expect(answers.length).toBeGreaterThan(6);
  const unclear = answers.filter((a) => !clear(a));
  expect(unclear).toEqual([]);
  expect(answers.filter((a) => a.status === 200).length).toBeGreaterThan(3);
  await waitFor('a consistent, full pool', async () => {
    const p = await pool(s.url);
    return p.problems.length === 0 && p.idle === 4;
  });
}, 120_000);

it('SIGTERM to a router under load: in-flight requests complete or get a clear error, and it exits 0', async () => {
  const s = await newStack(2);
  const url = await secondRouter(s);
  const router = extra[0]!;
  const pending = Array.from({ length: 8 }, (_, i) => execute(url, { code: `setTimeout(() => console.log(${i}), 300)` }));
  await new Promise((r) => setTimeout(r, 150));
  router.child.kill('SIGTERM');
  const answers = await Promise.all(pending.map((p) => p.catch((err: Error) => ({ status: 0, body: { error: { code: err.message } } }) as unknown as Answer)));
  expect(answers.every(clear)).toBe(true);
  for (const a of answers) {
    if (a.status === 200) expect(a.body.status).toBe('ok');
    else expect((a.body as unknown as { error: { code: string } }).error.code).toBe('shutting_down');
  }
  expect(await router.exited).toBe(0);
  await waitFor('every lease released', async () => {
    const p = await pool(s.url);
    return p.idle === 2 && p.problems.length === 0;
  });
}, 60_000);
