import { readdirSync, readFileSync } from 'node:fs';
import { loadWorkerConfig } from '@corral/config';
import { ERROR_HEADER, REQUEST_ID_HEADER, TOKEN_HEADER, WORKER_RUN_PATH, type ExecutionResult, type Lease } from '@corral/contracts';
import { freePort, randomLoopbackBase, randomPrefix, startRedisServer, waitFor, type RedisServer } from '@corral/devkit';
import { Registry } from '@corral/registry';
import { registryTesting } from '@corral/registry/testing';
import { createLogger } from '@corral/service';
import { startWorker, type WorkerHandle } from '../src/lib/worker';

let redis: RedisServer;
let registry: Registry;
let worker: WorkerHandle;
const host = 'w1';

function ip(base: string, i: number): string {
  const parts = base.split('.').map(Number);
  return `${parts[0]}.${parts[1]}.${parts[2]}.${parts[3]! + i}`;
}

async function idleCount(): Promise<number> {
  return (await registry.slots.pool()).idle;
}

async function send(lease: Lease, body: unknown, token = lease.token): Promise<Response> {
  return fetch(`http://${lease.ip}:${lease.port}${WORKER_RUN_PATH}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', [TOKEN_HEADER]: token, [REQUEST_ID_HEADER]: 'req-1' },
    body: JSON.stringify(body),
  });
}

/** Sandboxes below `root`: each has one corral-spawn, its trusted parent (inside, bubblewrap and the runtime). */
function sandboxesBelow(root: number): number {
  const parent = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'latin1');
      parent.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // ended meanwhile
    }
  }
  const below = (pid: number): boolean => {
    for (let p = parent.get(pid); p !== undefined && p > 0; p = parent.get(p)) if (p === root) return true;
    return false;
  };
  let count = 0;
  for (const pid of parent.keys()) {
    try {
      if (below(pid) && readFileSync(`/proc/${pid}/comm`, 'latin1').trim() === 'corral-spawn') count += 1;
    } catch {
      // ended meanwhile
    }
  }
  return count;
}

async function claim(): Promise<Lease> {
  return waitFor('an idle slot', () => registry.queue.claim(5000, 'test'));
}

beforeAll(async () => {
  redis = await startRedisServer();
  const prefix = randomPrefix('worker');
  const base = randomLoopbackBase();
  const port = await freePort(ip(base, 0));
  registry = await Registry.connect({ url: redis.url, prefix });
  await registry.slots.publish(host, 'loopback', [0, 1].map((i) => ({ id: `${host}:${i}`, ip: ip(base, i) })));
  const config = loadWorkerConfig({
    REDIS_URL: redis.url,
    CORRAL_REDIS_PREFIX: prefix,
    CORRAL_HOST_ID: host,
    CORRAL_WORKER_PORT: String(port),
    CORRAL_INVENTORY_POLL_MS: '200',
    CORRAL_MAX_OUTPUT_BYTES: '4096',
    CORRAL_SHUTDOWN_GRACE_MS: '2000',
  });
  worker = await startWorker(config, createLogger('worker', 'silent'));
});

afterAll(async () => {
  await worker?.close();
  await registry?.close();
  await redis?.stop();
});

describe('worker with real sandboxes and a real Redis', () => {
  it('serves every slot of its host and makes each idle once its sandbox is warm', async () => {
    await waitFor('2 idle slots', async () => (await idleCount()) === 2);
    const pool = await registry.slots.pool();
    expect(pool.slots.every((s) => s.pid! > 0 && s.port! > 0)).toBe(true);
  });

  it('runs a job with a valid token and answers the API result', async () => {
    const lease = await claim();
    const res = await send(lease, { code: 'console.log("hi", process.argv.slice(2).join("+"))', args: ['a', 'b'] });
    expect(res.status).toBe(200);
    const result = (await res.json()) as ExecutionResult;
    expect(result).toMatchObject({ id: 'req-1', status: 'ok', exitCode: 0, signal: null, stdout: 'hi a+b\n', stderr: '', truncated: false });
    expect(result.memoryBytes).toBeGreaterThan(0);
  });

  it('puts the slot back only with a fresh sandbox, never the used one', async () => {
    await waitFor('2 idle slots', async () => (await idleCount()) === 2);
    const before = new Map((await registry.slots.pool()).slots.map((s) => [s.id, s.pid]));
    const lease = await claim();
    await (await send(lease, { code: '1' })).json();
    await waitFor('slot idle again', async () => (await idleCount()) === 2);
    const after = (await registry.slots.pool()).slots.find((s) => s.id === lease.slotId);
    expect(after?.pid).not.toBe(before.get(lease.slotId));
  });

  it('boots the next sandbox beside a job that runs longer than a moment', async () => {
    await waitFor('2 idle slots', async () => (await idleCount()) === 2);
    expect(sandboxesBelow(process.pid)).toBe(2); // one warm per slot
    const lease = await claim();
    const answer = send(lease, { code: 'setTimeout(() => console.log("done"), 3000)' });
    // The job's own, the next one of its slot, and the other slot's warm one.
    await waitFor('the next sandbox beside the running job', () => sandboxesBelow(process.pid) === 3, { timeoutMs: 2500 });
    expect((await (await answer).json()) as ExecutionResult).toMatchObject({ status: 'ok', stdout: 'done\n' });
    await waitFor('2 idle slots again', async () => (await idleCount()) === 2);
    expect(sandboxesBelow(process.pid)).toBe(2); // the job's sandbox is gone
  });

  it('refuses a forged token and a used one, and keeps the slot', async () => {
    const lease = await claim();
    const forged = await send(lease, { code: '1' }, 'forged');
    expect(forged.status).toBe(403);
    expect(await forged.json()).toEqual({ error: { code: 'bad_token', message: expect.any(String) } });
    expect((await send(lease, { code: '1' })).status).toBe(200);
    expect((await send(lease, { code: '1' })).status).toBe(403);
  });

  it('answers bad requests with JSON errors and keeps serving', async () => {
    const lease = await claim();
    const notJson = await fetch(`http://${lease.ip}:${lease.port}${WORKER_RUN_PATH}`, {
      method: 'POST',
      headers: { [TOKEN_HEADER]: lease.token },
      body: '{nope',
    });
    expect(notJson.status).toBe(400);
    expect(((await notJson.json()) as { error: { code: string } }).error.code).toBe('invalid_json');
    expect((await fetch(`http://${lease.ip}:${lease.port}/elsewhere`)).status).toBe(404);
    expect((await send(lease, { code: 42 })).status).toBe(400);
    expect((await send(lease, { code: 'console.log(7)' })).status).toBe(200);
  });

  it('names the catalogue code of every error answer in its header', async () => {
    const lease = await claim();
    const forged = await send(lease, { code: '1' }, 'forged');
    expect([forged.status, forged.headers.get(ERROR_HEADER)]).toEqual([403, 'bad_token']);
    const invalid = await send(lease, { code: 42 });
    expect([invalid.status, invalid.headers.get(ERROR_HEADER)]).toEqual([400, 'invalid_request']);
    const elsewhere = await fetch(`http://${lease.ip}:${lease.port}/elsewhere`);
    expect([elsewhere.status, elsewhere.headers.get(ERROR_HEADER)]).toEqual([404, 'not_found']);
    const ok = await send(lease, { code: '1' });
    expect([ok.status, ok.headers.get(ERROR_HEADER)]).toEqual([200, null]);
  });

  it('boots a sandbox with the requested heap when it differs from the warm one', async () => {
    const lease = await claim();
    const res = await send(lease, { code: 'const a=[];for(;;)a.push(new Array(1e5).fill(1))', memoryMb: 32 });
    const result = (await res.json()) as ExecutionResult;
    expect(result.status).toBe('memory_limit');
    expect(result.signal).toBe('SIGABRT');
  });

  it('caps output', async () => {
    const lease = await claim();
    const result = (await (await send(lease, { code: 'for(;;) console.log("flood")' })).json()) as ExecutionResult;
    expect(result).toMatchObject({ status: 'output_limit', truncated: true });
    expect(result.stdout.length + result.stderr.length).toBe(4096);
  });

  it('puts a slot back that was taken out of service while it still serves it (a missed heartbeat)', async () => {
    await waitFor('2 idle slots', async () => (await idleCount()) === 2);
    // What the watchdog does when the heartbeat expired: every slot of the host goes dead.
    await registryTesting(registry).dropHeartbeat(host);
    expect(await registry.liveness.markHostDead(host)).toBe(2);
    await waitFor('2 idle slots again', async () => (await idleCount()) === 2, { timeoutMs: 5000 });
    const lease = await claim();
    const result = (await (await send(lease, { code: 'console.log(6 * 7)' })).json()) as ExecutionResult;
    expect(result.stdout).toBe('42\n');
  });

  it('follows the inventory: a removed slot stops being served', async () => {
    await waitFor('2 idle slots', async () => (await idleCount()) === 2);
    const slots = await registry.slots.list(host);
    await registry.slots.publish(host, 'loopback', [{ id: slots[0]!.id, ip: slots[0]!.ip }]);
    await waitFor('one runner', () => worker.slots.size === 1);
    await registry.slots.publish(host, 'loopback', slots.map((s) => ({ id: s.id, ip: s.ip })));
    await waitFor('2 idle slots again', async () => (await idleCount()) === 2, { timeoutMs: 10_000 });
  });
});

describe('worker shutdown', () => {
  it('takes every slot out of service, also one whose job ended while its next sandbox was still booting', async () => {
    const prefix = randomPrefix('worker-close');
    const base = randomLoopbackBase();
    const own = await Registry.connect({ url: redis.url, prefix });
    try {
      await own.slots.publish('w2', 'loopback', [{ id: 'w2:0', ip: ip(base, 0) }]);
      const config = loadWorkerConfig({
        REDIS_URL: redis.url,
        CORRAL_REDIS_PREFIX: prefix,
        CORRAL_HOST_ID: 'w2',
        CORRAL_WORKER_PORT: String(await freePort(ip(base, 0))),
        CORRAL_SHUTDOWN_GRACE_MS: '2000',
      });
      const second = await startWorker(config, createLogger('worker', 'silent'));
      const lease = await waitFor('an idle slot', () => own.queue.claim(5000, 'test'));
      // 60 ms: past the moment the next sandbox starts booting, and over before it is ready.
      const res = await fetch(`http://${lease.ip}:${lease.port}${WORKER_RUN_PATH}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [TOKEN_HEADER]: lease.token },
        body: JSON.stringify({ code: 'setTimeout(() => {}, 60)' }),
      });
      expect(((await res.json()) as ExecutionResult).status).toBe('ok');
      await second.close();
      expect((await own.slots.pool()).slots.map((s) => s.state)).toEqual(['dead']);
    } finally {
      await own.close();
    }
  });
});
