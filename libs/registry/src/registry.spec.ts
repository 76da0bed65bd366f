// One file for every facet, longer than the rest: they share one real redis-server and the
// helpers that bring slots up, and the pool check after each test holds for all of them.
import { privateRedisFromEnv, startPrivateRedis, startRedisServer, randomPrefix, waitFor, type PrivateRedis } from '@corral/devkit';
import type { Lease, RunningSandbox, SlotAddress } from '@corral/contracts';
import { RegistryUnavailableError } from './errors';
import { Registry } from './registry';
import { registryTesting } from './testing';

// One server, or what CORRAL_TEST_REDIS names (cluster.spec.ts runs this file on a Cluster).
let server: PrivateRedis;
let registry: Registry;
const host = 'h1';

function addresses(count: number, h = host): SlotAddress[] {
  return Array.from({ length: count }, (_, i) => ({ id: `${h}:${i}`, ip: `127.9.0.${i + 1}` }));
}

async function bringUp(count: number, port = 7070): Promise<void> {
  await registry.slots.publish(host, 'loopback', addresses(count));
  for (let i = 0; i < count; i += 1) expect(await registry.slots.ready(host, `${host}:${i}`, '', 1000 + i, port)).toBe('idle');
}

function running(slotId: string, token: string): RunningSandbox {
  return { slotId, token, pid: 4242, pgid: 4242, cpuBaseMs: 20, cpuMs: 500, memoryMb: 64, startedAt: Date.now() };
}

const settle = (ms = 50): Promise<void> => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  server = await startPrivateRedis(privateRedisFromEnv());
});
afterAll(async () => {
  await server?.stop();
});
beforeEach(async () => {
  registry = await Registry.connect({ redis: server.endpoint, prefix: randomPrefix() });
});
afterEach(async () => {
  // Whatever a test did, no slot may be lost or doubled.
  expect((await registry.slots.pool()).problems).toEqual([]);
  await registry.close();
});

describe('slots: the inventory and slot states', () => {
  it('publishes an inventory idempotently and reconciles it', async () => {
    expect(await registry.slots.publish(host, 'loopback', addresses(3))).toEqual({ added: 3, removed: 0, changed: 0 });
    expect(await registry.slots.publish(host, 'loopback', addresses(3))).toEqual({ added: 0, removed: 0, changed: 0 });
    expect(await registry.slots.publish(host, 'loopback', addresses(1))).toEqual({ added: 0, removed: 2, changed: 0 });
    const slots = await registry.slots.list(host);
    expect(slots).toEqual([expect.objectContaining({ id: 'h1:0', ip: '127.9.0.1', state: 'dead', port: null })]);
  });

  it('leaves other hosts alone', async () => {
    await registry.slots.publish('h2', 'loopback', addresses(2, 'h2'));
    await registry.slots.publish(host, 'loopback', addresses(1));
    await registry.slots.publish(host, 'loopback', []);
    expect((await registry.slots.list()).map((s) => s.id)).toEqual(['h2:0', 'h2:1']);
  });

  it('takes a slot whose address changed out of service, with its job', async () => {
    await bringUp(1);
    const lease = (await registry.queue.claim(5000, 'r'))!;
    await registry.jobs.start(host, running(lease.slotId, lease.token), 5000);
    expect(await registry.slots.publish(host, 'loopback', [{ id: 'h1:0', ip: '127.9.0.99' }])).toEqual({ added: 0, removed: 0, changed: 1 });
    expect(await registry.slots.list(host)).toEqual([expect.objectContaining({ ip: '127.9.0.99', state: 'dead' })]);
    expect(await registry.jobs.runningOn(host)).toEqual([]);
  });

  it('never holds a slot twice in the idle list after repeated releases', async () => {
    await bringUp(1);
    expect(await registry.slots.ready(host, 'h1:0', '', 1, 7070)).toBe('already_idle');
    await registry.slots.setState(host, 'h1:0', 'booting');
    await registry.slots.ready(host, 'h1:0', '', 1, 7070);
    const first = await registry.queue.claim(5000, 'r');
    const second = await registry.queue.claim(5000, 'r');
    expect(first?.slotId).toBe('h1:0');
    expect(second).toBeNull();
  });

  it('says what a state change or a ready sandbox did: unknown slot, another lease holds it', async () => {
    await bringUp(1);
    expect(await registry.slots.setState(host, 'h1:9', 'dead')).toBe('no_slot');
    expect(await registry.slots.ready(host, 'h1:9', '', 1, 7070)).toBe('gone');
    const lease = (await registry.queue.claim(5000, 'r'))!;
    expect(await registry.slots.setState(host, lease.slotId, 'booting', 'other')).toBe('held_by_other');
    expect(await registry.slots.setState(host, lease.slotId, 'booting', lease.token)).toBe('changed');
    expect(await registry.slots.ready(host, lease.slotId, '', 1, 7070)).toBe('idle');
  });

  it('the consistency check finds a lost slot and a doubled one', async () => {
    await bringUp(2);
    const testing = registryTesting(registry);
    await testing.unlistIdle('h1:0'); // idle but unlisted: lost
    await testing.listIdle('h1:1'); // listed twice: doubled
    const pool = await registry.slots.pool();
    expect(pool.consistent).toBe(false);
    expect(pool.problems).toEqual(['h1:0 is idle but listed 0 times', 'h1:1 is idle but listed 2 times']);
    await testing.listIdle('h1:0');
    await testing.unlistIdle('h1:1', 1);
  });
});

describe('queue: leases and the queue shared by every router', () => {
  const request = (ticket: string, routerId: string, deadline = Date.now() + 10_000) =>
    registry.queue.request({ ticket, routerId, deadline, claimTtlMs: 5000, requestId: ticket });

  it('claims idle slots oldest first, each once, and nothing when none is idle', async () => {
    await bringUp(2);
    const a = await registry.queue.claim(5000, 'r1');
    const b = await registry.queue.claim(5000, 'r2');
    expect([a?.slotId, b?.slotId]).toEqual(['h1:0', 'h1:1']);
    expect(a).toMatchObject({ ip: '127.9.0.1', port: 7070, host });
    expect(a?.token).not.toEqual(b?.token);
    expect(await registry.queue.claim(5000, 'r3')).toBeNull();
    expect(await registry.slots.pool()).toMatchObject({ total: 2, idle: 0, busy: 2 });
  });

  it('does not hand out a slot that no worker serves yet', async () => {
    await registry.slots.publish(host, 'loopback', addresses(1));
    expect(await registry.queue.claim(5000, 'r')).toBeNull();
  });

  it('gives back an unused claim once: the slot is idle again', async () => {
    await bringUp(1);
    const lease = (await registry.queue.claim(5000, 'r'))!;
    expect(await registry.queue.release(lease)).toBe(true);
    expect(await registry.queue.release(lease)).toBe(false);
    expect((await registry.slots.pool()).idle).toBe(1);
    expect((await registry.queue.claim(5000, 'r'))?.slotId).toBe(lease.slotId);
  });

  it('cannot give back a claim whose job started: that proves it may have run', async () => {
    await bringUp(1);
    const lease = (await registry.queue.claim(5000, 'r'))!;
    await registry.jobs.start(host, running(lease.slotId, lease.token), 5000);
    expect(await registry.queue.release(lease)).toBe(false);
    expect(await registry.slots.pool()).toMatchObject({ busy: 1, idle: 0 });
    await registry.slots.ready(host, lease.slotId, lease.token, 2, 7070);
  });

  it('reclaims expired leases: unstarted ones go idle, started ones go dead', async () => {
    await bringUp(2);
    const unstarted = (await registry.queue.claim(1, 'r'))!;
    const started = (await registry.queue.claim(5000, 'r'))!;
    await registry.jobs.start(host, running(started.slotId, started.token), 1);
    await settle(10);
    const again = await registry.queue.claim(5000, 'r');
    expect(again?.slotId).toBe(unstarted.slotId);
    const pool = await registry.slots.pool();
    expect(pool.slots.find((s) => s.id === started.slotId)?.state).toBe('dead');
    expect(await registry.jobs.runningOn(host)).toEqual([]);
  });

  it('gives back expired claims on its own, without a request: to a waiting ticket first, else idle; running jobs are left to the watchdog', async () => {
    await bringUp(3);
    const testing = registryTesting(registry);
    const forgotten = (await registry.queue.claim(60_000, 'r'))!;
    const live = (await registry.queue.claim(60_000, 'r'))!;
    const stuck = (await registry.queue.claim(60_000, 'r'))!;
    await registry.jobs.start(host, running(stuck.slotId, stuck.token), 60_000);
    expect(await request('t1', 'r1')).toBe('queued');
    await testing.expireLease(forgotten.slotId);
    await testing.expireLease(stuck.slotId);
    expect(await registry.queue.reclaimExpiredClaims()).toBe(1);
    expect(await registry.queue.reclaimExpiredClaims()).toBe(0);
    // The waiting ticket got the given-back slot; the live claim and the running job kept theirs.
    const assigned = await registry.queue.take('t1');
    expect(assigned).toMatchObject({ slotId: forgotten.slotId });
    expect(await registry.queue.release(forgotten)).toBe(false);
    expect((await registry.slots.pool()).slots.find((s) => s.id === forgotten.slotId)).toMatchObject({ state: 'busy', phase: 'claimed' });
    expect(await registry.queue.release(live)).toBe(true);
    expect((await registry.jobs.runningOn(host)).map((j) => j.slotId)).toEqual([stuck.slotId]);
    expect((await registry.slots.pool()).slots.find((s) => s.id === stuck.slotId)).toMatchObject({ state: 'busy', phase: 'running' });
    await registry.slots.ready(host, stuck.slotId, stuck.token, 2, 7070);
    expect(await registry.queue.release(assigned as Lease)).toBe(true);
  });

  it('the consistency check finds a slot busy without a live request, and a running job the watchdog cannot see', async () => {
    await bringUp(2);
    const testing = registryTesting(registry);
    const claimed = (await registry.queue.claim(60_000, 'r'))!;
    const started = (await registry.queue.claim(60_000, 'r'))!;
    await registry.jobs.start(host, running(started.slotId, started.token), 60_000);
    expect((await registry.slots.pool()).problems).toEqual([]);
    // A moment past the end is not yet a problem: clocks of hosts differ a little.
    await testing.expireLease(claimed.slotId, 10);
    expect((await registry.slots.pool()).problems).toEqual([]);
    await testing.expireLease(claimed.slotId, 5000);
    await testing.expireLease(started.slotId, 5000);
    const pool = await registry.slots.pool();
    expect(pool.consistent).toBe(false);
    expect(pool.problems).toEqual([
      expect.stringMatching(/^h1:0 is busy without a live request: its claim ran out 5\d{3} ms ago/),
      expect.stringMatching(/^h1:1 is running a job whose lease ran out 5\d{3} ms ago/),
    ]);
    await testing.expireLease(claimed.slotId, -60_000);
    await testing.expireLease(started.slotId, -60_000);
    await testing.forgetJob(started.slotId);
    await registry.jobs.update(host, running(claimed.slotId, 'x')); // a job entry for a slot that is only claimed
    expect((await registry.slots.pool()).problems).toEqual(['h1:0 is claimed but a job is listed for it', 'h1:1 is running a job the watchdog does not know of']);
    await registry.slots.setState(host, claimed.slotId, 'booting', claimed.token);
    await registry.slots.setState(host, started.slotId, 'booting', started.token);
  });

  it('marks a slot dead only for the lease holder', async () => {
    await bringUp(1);
    const lease = (await registry.queue.claim(5000, 'r'))!;
    expect(await registry.queue.markDead({ ...lease, token: 'nope' })).toBe(false);
    expect(await registry.queue.markDead(lease)).toBe(true);
    expect((await registry.slots.pool()).dead).toBe(1);
    expect(await registry.queue.claim(5000, 'r')).toBeNull();
  });

  it('claims at once when a slot is idle and nobody waits', async () => {
    await bringUp(1);
    const lease = await request('t1', 'rA');
    expect(lease).toMatchObject({ slotId: 'h1:0', port: 7070 });
    expect(await request('t2', 'rA')).toBe('queued');
  });

  it('hands freed slots to waiting tickets in arrival order, whichever router they came from', async () => {
    await bringUp(1);
    const first = (await request('t0', 'rA')) as Lease;
    const heard: string[] = [];
    const offA = await registry.queue.subscribe('rA', (t) => heard.push(`rA:${t}`));
    const offB = await registry.queue.subscribe('rB', (t) => heard.push(`rB:${t}`));
    for (const [ticket, router] of [['t1', 'rB'], ['t2', 'rA'], ['t3', 'rB']] as const) expect(await request(ticket, router)).toBe('queued');
    expect(await registry.queue.take('t1')).toBe('queued');

    await registry.jobs.start(host, running(first.slotId, first.token), 5000);
    expect(await registry.slots.ready(host, first.slotId, first.token, 2, 7070)).toBe('assigned');
    const second = (await registry.queue.take('t1')) as Lease;
    expect(second).toMatchObject({ slotId: 'h1:0', ip: '127.9.0.1', port: 7070, host });
    expect(second.token).toEqual(expect.any(String));
    expect(await registry.queue.take('t1')).toBe('lost'); // taken once
    await registry.jobs.start(host, running(second.slotId, second.token), 5000);
    await registry.slots.ready(host, second.slotId, second.token, 3, 7070);
    expect(await registry.queue.take('t2')).toMatchObject({ slotId: 'h1:0' });
    await settle();
    expect(heard).toEqual(['rB:t1', 'rA:t2']);
    await offA();
    await offB();
    expect((await registry.slots.pool()).idle).toBe(0);
  });

  it('skips tickets past their deadline, and gives a withdrawn assignment back to the next waiter', async () => {
    await bringUp(1);
    const held = (await request('t0', 'rA')) as Lease;
    await request('late', 'rA', Date.now() + 20);
    await request('gone', 'rA');
    await request('next', 'rB');
    await settle(30);
    expect(await registry.queue.release(held)).toBe(true);
    expect(await registry.queue.take('late')).toBe('lost');
    const assigned = await registry.queue.cancel('gone');
    expect(assigned).toMatchObject({ slotId: 'h1:0' });
    expect(await registry.queue.release(assigned!)).toBe(true);
    expect(await registry.queue.take('next')).toMatchObject({ slotId: 'h1:0' });
  });

  it('never leaves a slot idle while a live ticket waits', async () => {
    await bringUp(2);
    const a = (await request('a', 'r')) as Lease;
    const b = (await request('b', 'r')) as Lease;
    expect(await request('c', 'r')).toBe('queued');
    expect(await registry.queue.release(a)).toBe(true);
    expect((await registry.slots.pool()).idle).toBe(0);
    expect(await registry.queue.take('c')).toMatchObject({ slotId: a.slotId });
    expect(await registry.queue.release(b)).toBe(true);
    expect((await registry.slots.pool()).idle).toBe(1);
    expect(await registry.queue.cancel('nobody')).toBeNull();
  });

  it('background work claims only beyond the reserve and while nobody waits, and never queues', async () => {
    await bringUp(3);
    const bulk = (ticket: string) => registry.queue.request({ ticket, routerId: 'rBulk', deadline: Date.now() + 10_000, claimTtlMs: 5000, requestId: ticket, reserve: 1 });
    const first = await bulk('b1');
    expect(first).toMatchObject({ slotId: 'h1:0' });
    expect(await bulk('b2')).toMatchObject({ slotId: 'h1:1' });
    // One idle slot left: it stays for clients.
    expect(await bulk('b3')).toBe('reserved');
    expect(await registry.queue.take('b3')).toBe('lost'); // not queued
    const client = (await request('c1', 'rA')) as Lease;
    expect(client).toMatchObject({ slotId: 'h1:2' });
    // A client waits: a freed slot goes to it, not to background work.
    expect(await request('c2', 'rA')).toBe('queued');
    expect(await registry.queue.release(first as Lease)).toBe(true);
    expect(await bulk('b4')).toBe('reserved');
    expect(await registry.queue.take('c2')).toMatchObject({ slotId: 'h1:0' });
    expect((await registry.slots.pool()).idle).toBe(0);
  });
});

describe('jobs: running jobs and kill reasons', () => {
  it('lets a token start exactly one job', async () => {
    await bringUp(1);
    const lease = (await registry.queue.claim(5000, 'r'))!;
    expect(await registry.jobs.start(host, running(lease.slotId, 'forged'), 5000)).toBe('bad_token');
    expect(await registry.jobs.start(host, running(lease.slotId, lease.token), 5000)).toBe('started');
    expect(await registry.jobs.start(host, running(lease.slotId, lease.token), 5000)).toBe('token_used');
    expect(await registry.jobs.start(host, running('h1:9', lease.token), 5000)).toBe('no_slot');
    expect(await registry.jobs.runningOn(host)).toEqual([expect.objectContaining({ slotId: 'h1:0', pid: 4242, cpuMs: 500 })]);
  });

  it('keeps every field of a running job, its cgroup too, and replaces them when the sandbox changes', async () => {
    await bringUp(1);
    const lease = (await registry.queue.claim(5000, 'r'))!;
    const cgroup = { version: 2 as const, dirs: ['/sys/fs/cgroup/x'], cpuFile: 'cpu.stat', procsFile: 'cgroup.procs', freezeFile: 'cgroup.freeze', killFile: 'cgroup.kill' };
    const job = { ...running(lease.slotId, lease.token), cgroup };
    await registry.jobs.start(host, job, 5000);
    expect(await registry.jobs.runningOn(host)).toEqual([job]);
    const events: unknown[] = [];
    const off = await registry.liveness.subscribe((e) => events.push(e));
    const swapped = { ...running(lease.slotId, lease.token), pid: 77, pgid: 76 };
    await registry.jobs.update(host, swapped);
    expect(await registry.jobs.runningOn(host)).toEqual([swapped]); // no cgroup left from before
    await settle();
    await off();
    expect(events).toEqual([{ type: 'running', host }]);
    await registry.slots.ready(host, lease.slotId, lease.token, 2, 7070);
  });

  it('returns a slot to the end of the idle list after its job, and clears the running entry', async () => {
    await bringUp(2);
    const lease = (await registry.queue.claim(5000, 'r'))!;
    await registry.jobs.start(host, running(lease.slotId, lease.token), 5000);
    expect(await registry.slots.ready(host, lease.slotId, 'wrong-token', 1, 7070)).toBe('claimed_by_other');
    expect(await registry.slots.ready(host, lease.slotId, lease.token, 99, 7070)).toBe('idle');
    expect(await registry.jobs.runningOn(host)).toEqual([]);
    expect((await registry.queue.claim(5000, 'r'))?.slotId).toBe('h1:1');
    expect((await registry.queue.claim(5000, 'r'))?.slotId).toBe('h1:0');
  });

  it('records a kill reason only for the job holding the token', async () => {
    await bringUp(1);
    const lease = (await registry.queue.claim(5000, 'r'))!;
    expect(await registry.jobs.recordKill(lease.slotId, lease.token, 'cpu_limit')).toBe(false); // not started yet
    await registry.jobs.start(host, running(lease.slotId, lease.token), 5000);
    expect(await registry.jobs.recordKill(lease.slotId, 'other', 'cpu_limit')).toBe(false);
    expect(await registry.jobs.recordKill(lease.slotId, lease.token, 'cpu_limit')).toBe(true);
    expect(await registry.jobs.killReason(lease.slotId)).toBe('cpu_limit');
    await registry.slots.ready(host, lease.slotId, lease.token, 1, 7070);
    expect(await registry.jobs.killReason(lease.slotId)).toBeNull();
  });

  it('counts kills by reason for the whole fleet', async () => {
    await registry.jobs.countKill('cpu_limit');
    await registry.jobs.countKill('cpu_limit');
    await registry.jobs.countKill('memory_limit');
    expect(await registry.jobs.killCounts()).toEqual({ cpu_limit: 2, memory_limit: 1 });
  });

  it('after Redis lost its data: a new epoch, and a worker can put back its running job', async () => {
    const before = await registry.liveness.epoch();
    expect(await registry.liveness.epoch()).toBe(before);
    await bringUp(1);
    const lease = (await registry.queue.claim(5000, 'r'))!;
    await registry.jobs.start(host, running(lease.slotId, lease.token), 5000);
    await registryTesting(registry).loseData();
    expect(await registry.liveness.epoch()).not.toBe(before);
    expect(await registry.jobs.restore(host, running(lease.slotId, lease.token), 5000)).toBe(false); // no such slot yet
    await registry.slots.publish(host, 'loopback', addresses(1));
    expect(await registry.jobs.restore(host, running(lease.slotId, lease.token), 5000)).toBe(true);
    expect(await registry.jobs.restore(host, running(lease.slotId, lease.token), 5000)).toBe(false); // only out of service slots
    expect(await registry.jobs.runningOn(host)).toHaveLength(1);
    expect(await registry.slots.ready(host, lease.slotId, lease.token, 5, 7070)).toBe('idle');
  });
});

describe('admission: API keys across routers', () => {
  const limits = { ratePerMinute: 2, maxConcurrent: 1, holdMs: 60_000 };

  it('admits within the concurrency limit, and again once a request is released', async () => {
    expect(await registry.admission.admit('alice', 'r1', limits)).toEqual({ admitted: true });
    expect(await registry.admission.admit('alice', 'r2', limits)).toEqual({ admitted: false, limit: 'concurrency', retryAfterMs: 0 });
    expect(await registry.admission.admit('bob', 'r3', limits)).toEqual({ admitted: true });
    await registry.admission.release('alice', 'r1');
    expect(await registry.admission.admit('alice', 'r4', limits)).toEqual({ admitted: true });
  });

  it('refuses over the rate, with the time left in the window', async () => {
    for (const id of ['r1', 'r2']) {
      expect(await registry.admission.admit('carol', id, limits)).toEqual({ admitted: true });
      await registry.admission.release('carol', id);
    }
    const over = await registry.admission.admit('carol', 'r3', limits);
    expect(over).toEqual({ admitted: false, limit: 'rate', retryAfterMs: expect.any(Number) });
    expect((over as { retryAfterMs: number }).retryAfterMs).toBeGreaterThan(0);
    expect((over as { retryAfterMs: number }).retryAfterMs).toBeLessThanOrEqual(60_000);
  });

  it('a submission counts all its executions against the rate at once, or none; its executions then hold places in flight only', async () => {
    const rate5 = { ...limits, ratePerMinute: 5, maxConcurrent: 2 };
    expect(await registry.admission.admit('dave', 'tests-6', rate5, { rate: 6, inFlight: false })).toMatchObject({ admitted: false, limit: 'rate' });
    expect(await registry.admission.admit('dave', 'tests-4', rate5, { rate: 4, inFlight: false })).toEqual({ admitted: true });
    // Its executions: no rate, a place in flight each.
    expect(await registry.admission.admit('dave', 't1', rate5, { rate: 0, inFlight: true })).toEqual({ admitted: true });
    expect(await registry.admission.admit('dave', 't2', rate5, { rate: 0, inFlight: true })).toEqual({ admitted: true });
    expect(await registry.admission.admit('dave', 't3', rate5, { rate: 0, inFlight: true })).toMatchObject({ admitted: false, limit: 'concurrency' });
    await registry.admission.release('dave', 't1');
    await registry.admission.release('dave', 't2');
    // One request is left of the rate: a refused one used none of it.
    expect(await registry.admission.admit('dave', 'r1', rate5)).toEqual({ admitted: true });
    await registry.admission.release('dave', 'r1');
    expect(await registry.admission.admit('dave', 'r2', rate5)).toMatchObject({ admitted: false, limit: 'rate' });
  });
});

describe('liveness: heartbeats, the epoch, silent hosts, events', () => {
  it('takes a silent host out of service, and lists jobs that outlived their lease', async () => {
    await bringUp(2);
    await registry.liveness.heartbeat(host, 5000);
    expect(await registry.liveness.markHostDead(host)).toBe(0); // it beats: nothing happens
    const lease = (await registry.queue.claim(5000, 'r'))!;
    await registry.jobs.start(host, running(lease.slotId, lease.token), 1);
    await settle(10);
    expect((await registry.jobs.expired(host)).map((r) => r.slotId)).toEqual([lease.slotId]);
    await registryTesting(registry).dropHeartbeat(host);
    expect(await registry.liveness.workerAlive(host)).toBe(false);
    expect(await registry.liveness.markHostDead(host)).toBe(2);
    expect(await registry.slots.pool()).toMatchObject({ dead: 2, idle: 0, busy: 0 });
    expect(await registry.jobs.runningOn(host)).toEqual([]);
  });

  it('keeps what each live host says of itself, for as long as it beats', async () => {
    const info = (id: string) => ({ id, jail: { mode: 'required' as const, layers: { uid: 'uid 200000 + slot' }, off: [] }, runtime: 'v24.0.0', packages: [{ name: 'lodash', version: '4.18.1' }], updatedAt: 1 });
    await registry.liveness.heartbeat('hb-a', 5000, info('hb-a'));
    await registry.liveness.heartbeat('hb-b', 60, info('hb-b'));
    expect((await registry.liveness.hosts()).map((h) => h.id)).toEqual(['hb-a', 'hb-b']);
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(await registry.liveness.hosts()).toEqual([info('hb-a')]);
  });

  it('publishes inventory events', async () => {
    const events: unknown[] = [];
    const unsubscribe = await registry.liveness.subscribe((e) => events.push(e));
    await bringUp(1);
    await settle();
    await unsubscribe();
    expect(events).toEqual([{ type: 'inventory', host }]);
  });
});

describe('an unreachable Redis', () => {
  it('fails fast with a clear message when Redis is not there', async () => {
    const connecting = Registry.connect({ url: 'redis://:secret@127.0.0.1:1', prefix: 'x', failFast: true });
    await expect(connecting).rejects.toThrow(/Cannot reach Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:1.*ECONNREFUSED/);
    await expect(connecting).rejects.toBeInstanceOf(RegistryUnavailableError);
  });

  it('raises RegistryUnavailableError from every facet once Redis is gone (a command-line tool: no retries)', async () => {
    const own = await startRedisServer();
    const lost = await Registry.connect({ url: own.url, prefix: randomPrefix(), failFast: true, onError: () => undefined });
    try {
      expect(await lost.slots.list()).toEqual([]);
      await own.stop();
      await expect(lost.slots.pool()).rejects.toBeInstanceOf(RegistryUnavailableError);
      await expect(lost.queue.claim(5000, 'r')).rejects.toBeInstanceOf(RegistryUnavailableError);
      await expect(lost.jobs.runningOn(host)).rejects.toBeInstanceOf(RegistryUnavailableError);
      await expect(lost.admission.admit('k', 'r', { ratePerMinute: 1, maxConcurrent: 1, holdMs: 1000 })).rejects.toBeInstanceOf(RegistryUnavailableError);
      await expect(lost.liveness.heartbeat(host, 1000)).rejects.toBeInstanceOf(RegistryUnavailableError);
      await expect(lost.liveness.subscribe(() => undefined)).rejects.toBeInstanceOf(RegistryUnavailableError);
    } finally {
      await lost.close();
      await own.stop();
    }
  });

  it('raises RegistryUnavailableError in a service once its retries are used up, and works again when Redis is back', async () => {
    const own = await startRedisServer();
    const lost = await Registry.connect({ url: own.url, prefix: randomPrefix(), onError: () => undefined });
    try {
      const gone = new Promise((resolve) => own.process.once('exit', resolve));
      own.process.kill('SIGKILL');
      await gone;
      await expect(lost.queue.claim(5000, 'r')).rejects.toThrow(RegistryUnavailableError);
      await own.restart(); // the same port, empty
      await waitFor('the registry back', () => lost.slots.list().then(() => true, () => false));
      expect(await lost.queue.claim(5000, 'r')).toBeNull();
    } finally {
      await lost.close();
      await own.stop();
    }
  });
});
