import { startRedisServer, randomPrefix, type RedisServer } from '@corral/devkit';
import type { Lease, RunningSandbox, SlotAddress } from '@corral/contracts';
import { Registry } from './registry';

let server: RedisServer;
let registry: Registry;
const host = 'h1';

function addresses(count: number, h = host): SlotAddress[] {
  return Array.from({ length: count }, (_, i) => ({ id: `${h}:${i}`, ip: `127.9.0.${i + 1}` }));
}

async function bringUp(count: number, port = 7070): Promise<void> {
  await registry.publishInventory(host, 'loopback', addresses(count));
  for (let i = 0; i < count; i += 1) expect(await registry.slotReady(host, `${host}:${i}`, '', 1000 + i, port)).toBe('idle');
}

function running(slotId: string, token: string): RunningSandbox {
  return { slotId, token, pid: 4242, pgid: 4242, cpuBaseMs: 20, cpuMs: 500, memoryMb: 64, startedAt: Date.now() };
}

beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(async () => {
  await server?.stop();
});
beforeEach(async () => {
  registry = await Registry.connect({ url: server.url, prefix: randomPrefix() });
});
afterEach(async () => {
  // Whatever a test did, no slot may be lost or doubled.
  expect((await registry.pool()).problems).toEqual([]);
  await registry.close();
});

describe('Registry against a real Redis', () => {
  it('publishes an inventory idempotently and reconciles it', async () => {
    expect(await registry.publishInventory(host, 'loopback', addresses(3))).toEqual({ added: 3, removed: 0, changed: 0 });
    expect(await registry.publishInventory(host, 'loopback', addresses(3))).toEqual({ added: 0, removed: 0, changed: 0 });
    expect(await registry.publishInventory(host, 'loopback', addresses(1))).toEqual({ added: 0, removed: 2, changed: 0 });
    const slots = await registry.listSlots(host);
    expect(slots).toEqual([expect.objectContaining({ id: 'h1:0', ip: '127.9.0.1', state: 'dead', port: null })]);
  });

  it('leaves other hosts alone', async () => {
    await registry.publishInventory('h2', 'loopback', addresses(2, 'h2'));
    await registry.publishInventory(host, 'loopback', addresses(1));
    await registry.publishInventory(host, 'loopback', []);
    expect((await registry.listSlots()).map((s) => s.id)).toEqual(['h2:0', 'h2:1']);
  });

  it('claims idle slots oldest first, each once, and nothing when none is idle', async () => {
    await bringUp(2);
    const a = await registry.claimSlot(5000, 'r1');
    const b = await registry.claimSlot(5000, 'r2');
    expect([a?.slotId, b?.slotId]).toEqual(['h1:0', 'h1:1']);
    expect(a).toMatchObject({ ip: '127.9.0.1', port: 7070, host });
    expect(a?.token).not.toEqual(b?.token);
    expect(await registry.claimSlot(5000, 'r3')).toBeNull();
    expect(await registry.pool()).toMatchObject({ total: 2, idle: 0, busy: 2 });
  });

  it('does not hand out a slot that no worker serves yet', async () => {
    await registry.publishInventory(host, 'loopback', addresses(1));
    expect(await registry.claimSlot(5000, 'r')).toBeNull();
  });

  it('lets a token start exactly one job', async () => {
    await bringUp(1);
    const lease = (await registry.claimSlot(5000, 'r'))!;
    expect(await registry.startJob(host, running(lease.slotId, 'forged'), 5000)).toBe('bad_token');
    expect(await registry.startJob(host, running(lease.slotId, lease.token), 5000)).toBe('started');
    expect(await registry.startJob(host, running(lease.slotId, lease.token), 5000)).toBe('token_used');
    expect(await registry.runningOn(host)).toEqual([expect.objectContaining({ slotId: 'h1:0', pid: 4242, cpuMs: 500 })]);
  });

  it('returns a slot to the end of the idle list after its job, and clears the running entry', async () => {
    await bringUp(2);
    const lease = (await registry.claimSlot(5000, 'r'))!;
    await registry.startJob(host, running(lease.slotId, lease.token), 5000);
    expect(await registry.slotReady(host, lease.slotId, 'wrong-token', 1, 7070)).toBe('claimed_by_other');
    expect(await registry.slotReady(host, lease.slotId, lease.token, 99, 7070)).toBe('idle');
    expect(await registry.runningOn(host)).toEqual([]);
    expect((await registry.claimSlot(5000, 'r'))?.slotId).toBe('h1:1');
    expect((await registry.claimSlot(5000, 'r'))?.slotId).toBe('h1:0');
  });

  it('records a kill reason only for the job holding the token', async () => {
    await bringUp(1);
    const lease = (await registry.claimSlot(5000, 'r'))!;
    expect(await registry.recordKill(lease.slotId, lease.token, 'cpu_limit')).toBe(false); // not started yet
    await registry.startJob(host, running(lease.slotId, lease.token), 5000);
    expect(await registry.recordKill(lease.slotId, 'other', 'cpu_limit')).toBe(false);
    expect(await registry.recordKill(lease.slotId, lease.token, 'cpu_limit')).toBe(true);
    expect(await registry.killReason(lease.slotId)).toBe('cpu_limit');
    await registry.slotReady(host, lease.slotId, lease.token, 1, 7070);
    expect(await registry.killReason(lease.slotId)).toBeNull();
  });

  it('gives back an unused claim once: the slot is idle again', async () => {
    await bringUp(1);
    const lease = (await registry.claimSlot(5000, 'r'))!;
    expect(await registry.releaseClaim(lease)).toBe(true);
    expect(await registry.releaseClaim(lease)).toBe(false);
    expect((await registry.pool()).idle).toBe(1);
    expect((await registry.claimSlot(5000, 'r'))?.slotId).toBe(lease.slotId);
  });

  it('reclaims expired leases: unstarted ones go idle, started ones go dead', async () => {
    await bringUp(2);
    const unstarted = (await registry.claimSlot(1, 'r'))!;
    const started = (await registry.claimSlot(5000, 'r'))!;
    await registry.startJob(host, running(started.slotId, started.token), 1);
    await new Promise((r) => setTimeout(r, 10));
    const again = await registry.claimSlot(5000, 'r');
    expect(again?.slotId).toBe(unstarted.slotId);
    const pool = await registry.pool();
    expect(pool.slots.find((s) => s.id === started.slotId)?.state).toBe('dead');
    expect(await registry.runningOn(host)).toEqual([]);
  });

  it('marks a slot dead only for the lease holder', async () => {
    await bringUp(1);
    const lease = (await registry.claimSlot(5000, 'r'))!;
    expect(await registry.markDead({ ...lease, token: 'nope' })).toBe(false);
    expect(await registry.markDead(lease)).toBe(true);
    expect((await registry.pool()).dead).toBe(1);
    expect(await registry.claimSlot(5000, 'r')).toBeNull();
  });

  it('never holds a slot twice in the idle list after repeated releases', async () => {
    await bringUp(1);
    expect(await registry.slotReady(host, 'h1:0', '', 1, 7070)).toBe('already_idle');
    await registry.setSlotState(host, 'h1:0', 'booting');
    await registry.slotReady(host, 'h1:0', '', 1, 7070);
    const first = await registry.claimSlot(5000, 'r');
    const second = await registry.claimSlot(5000, 'r');
    expect(first?.slotId).toBe('h1:0');
    expect(second).toBeNull();
  });

  it('publishes inventory events', async () => {
    const events: unknown[] = [];
    const unsubscribe = await registry.subscribe((e) => events.push(e));
    await bringUp(1);
    await new Promise((r) => setTimeout(r, 50));
    await unsubscribe();
    expect(events).toEqual([{ type: 'inventory', host }]);
  });

  describe('the queue shared by every router', () => {
    const request = (ticket: string, routerId: string, deadline = Date.now() + 10_000) =>
      registry.requestSlot({ ticket, routerId, deadline, claimTtlMs: 5000, requestId: ticket });

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
      const offA = await registry.subscribeRouter('rA', (t) => heard.push(`rA:${t}`));
      const offB = await registry.subscribeRouter('rB', (t) => heard.push(`rB:${t}`));
      for (const [ticket, router] of [['t1', 'rB'], ['t2', 'rA'], ['t3', 'rB']] as const) expect(await request(ticket, router)).toBe('queued');
      expect(await registry.takeAssignment('t1')).toBe('queued');

      await registry.startJob(host, running(first.slotId, first.token), 5000);
      expect(await registry.slotReady(host, first.slotId, first.token, 2, 7070)).toBe('assigned');
      const second = (await registry.takeAssignment('t1')) as Lease;
      expect(second).toMatchObject({ slotId: 'h1:0' });
      expect(await registry.takeAssignment('t1')).toBe('lost'); // taken once
      await registry.startJob(host, running(second.slotId, second.token), 5000);
      await registry.slotReady(host, second.slotId, second.token, 3, 7070);
      expect(await registry.takeAssignment('t2')).toMatchObject({ slotId: 'h1:0' });
      await new Promise((r) => setTimeout(r, 50));
      expect(heard).toEqual(['rB:t1', 'rA:t2']);
      await offA();
      await offB();
      expect((await registry.pool()).idle).toBe(0);
    });

    it('skips tickets past their deadline, and gives a withdrawn assignment back to the next waiter', async () => {
      await bringUp(1);
      const held = (await request('t0', 'rA')) as Lease;
      await request('late', 'rA', Date.now() + 20);
      await request('gone', 'rA');
      await request('next', 'rB');
      await new Promise((r) => setTimeout(r, 30));
      expect(await registry.releaseClaim(held)).toBe(true);
      expect(await registry.takeAssignment('late')).toBe('lost');
      const assigned = await registry.cancelTicket('gone');
      expect(assigned).toMatchObject({ slotId: 'h1:0' });
      expect(await registry.releaseClaim(assigned!)).toBe(true);
      expect(await registry.takeAssignment('next')).toMatchObject({ slotId: 'h1:0' });
    });

    it('never leaves a slot idle while a live ticket waits', async () => {
      await bringUp(2);
      const a = (await request('a', 'r')) as Lease;
      const b = (await request('b', 'r')) as Lease;
      expect(await request('c', 'r')).toBe('queued');
      expect(await registry.releaseClaim(a)).toBe(true);
      expect((await registry.pool()).idle).toBe(0);
      expect(await registry.takeAssignment('c')).toMatchObject({ slotId: a.slotId });
      expect(await registry.releaseClaim(b)).toBe(true);
      expect((await registry.pool()).idle).toBe(1);
      expect(await registry.cancelTicket('nobody')).toBeNull();
    });
  });

  it('after Redis lost its data: a new epoch, and a worker can put back its running job', async () => {
    const before = await registry.epoch();
    expect(await registry.epoch()).toBe(before);
    await bringUp(1);
    const lease = (await registry.claimSlot(5000, 'r'))!;
    await registry.startJob(host, running(lease.slotId, lease.token), 5000);
    await registry.client.flushdb();
    expect(await registry.epoch()).not.toBe(before);
    await registry.publishInventory(host, 'loopback', addresses(1));
    expect(await registry.restoreJob(host, running(lease.slotId, lease.token), 5000)).toBe(true);
    expect(await registry.restoreJob(host, running(lease.slotId, lease.token), 5000)).toBe(false); // only out of service slots
    expect(await registry.runningOn(host)).toHaveLength(1);
    expect(await registry.slotReady(host, lease.slotId, lease.token, 5, 7070)).toBe('idle');
  });

  it('takes a silent host out of service, and lists jobs that outlived their lease', async () => {
    await bringUp(2);
    await registry.heartbeat(host, 5000);
    expect(await registry.markHostDead(host)).toBe(0); // it beats: nothing happens
    const lease = (await registry.claimSlot(5000, 'r'))!;
    await registry.startJob(host, running(lease.slotId, lease.token), 1);
    await new Promise((r) => setTimeout(r, 10));
    expect((await registry.expiredRunning(host)).map((r) => r.slotId)).toEqual([lease.slotId]);
    await registry.client.del(registry.keys.heartbeat(host));
    expect(await registry.workerAlive(host)).toBe(false);
    expect(await registry.markHostDead(host)).toBe(2);
    expect(await registry.pool()).toMatchObject({ dead: 2, idle: 0, busy: 0 });
    expect(await registry.runningOn(host)).toEqual([]);
  });

  it('the consistency check finds a lost slot and a doubled one', async () => {
    await bringUp(2);
    await registry.client.lrem(registry.keys.idle, 0, 'h1:0'); // idle but unlisted: lost
    await registry.client.rpush(registry.keys.idle, 'h1:1'); // listed twice: doubled
    const pool = await registry.pool();
    expect(pool.consistent).toBe(false);
    expect(pool.problems).toEqual(['h1:0 is idle but listed 0 times', 'h1:1 is idle but listed 2 times']);
    await registry.client.rpush(registry.keys.idle, 'h1:0');
    await registry.client.lrem(registry.keys.idle, 1, 'h1:1');
  });

  it('fails fast with a clear message when Redis is not there', async () => {
    await expect(Registry.connect({ url: 'redis://:secret@127.0.0.1:1', prefix: 'x', failFast: true })).rejects.toThrow(
      /Cannot reach Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:1.*ECONNREFUSED/,
    );
  });
});
