import { randomUUID } from 'node:crypto';
import { privateRedisFromEnv, randomPrefix, startPrivateRedis, waitFor, type PrivateRedis } from '@corral/devkit';
import type { ExecutionResult } from '@corral/contracts';
import type { ExecutionEntry, JobQueues } from './job-queues';
import { Registry } from './registry';

let server: PrivateRedis;
let registry: Registry;
const KEEP_MS = 60_000;

const result = (id: string, stdout: string): ExecutionResult => ({
  id,
  status: 'ok',
  exitCode: 0,
  signal: null,
  stdout,
  stderr: '',
  truncated: false,
  durationMs: 1,
  cpuMs: 1,
  memoryBytes: 1,
});

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
  await registry.close();
});

describe('background records: one final state per execution', () => {
  it('queued → taken up → running → done, once; a second finish changes nothing', async () => {
    const id = randomUUID();
    await registry.background.create(id, { createdAt: new Date(), ttlMs: KEEP_MS, keyName: null });
    expect(await registry.background.get(id)).toMatchObject({ id, state: 'queued', attempts: 0 });
    expect(await registry.background.start(id)).toEqual({ kind: 'started', attempts: 1 });
    expect(await registry.background.get(id)).toMatchObject({ state: 'queued', attempts: 1 });
    expect(await registry.background.handOver(id)).toBe(true);
    expect(await registry.background.get(id)).toMatchObject({ state: 'running', startedAt: expect.any(String) });
    // Its router died; another takes it up.
    expect(await registry.background.start(id)).toEqual({ kind: 'started', attempts: 2 });
    expect(await registry.background.finish(id, 'done', { result: result(id, 'first') }, KEEP_MS)).toBe(true);
    expect(await registry.background.finish(id, 'done', { result: result(id, 'second') }, KEEP_MS)).toBe(false);
    expect(await registry.background.start(id)).toEqual({ kind: 'final' });
    const record = await registry.background.get(id);
    expect(record).toMatchObject({ state: 'done', attempts: 2, result: { stdout: 'first' } });
    expect(record?.finishedAt).toEqual(expect.any(String));
  });

  it('a queued execution cancelled is never handed over, even when a router has taken it up; a running one is told to stop', async () => {
    const queued = randomUUID();
    const taken = randomUUID();
    const running = randomUUID();
    for (const id of [queued, taken, running]) await registry.background.create(id, { createdAt: new Date(), ttlMs: KEEP_MS, keyName: null });
    const heard: string[] = [];
    const stop = await registry.background.onCancel((id) => heard.push(id));
    try {
      expect(await registry.background.cancel(queued, KEEP_MS)).toEqual({ kind: 'cancelled' });
      expect(await registry.background.start(queued)).toEqual({ kind: 'final' });
      // Taken up, waiting for a slot: cancelled, and its router is told.
      expect(await registry.background.start(taken)).toEqual({ kind: 'started', attempts: 1 });
      expect(await registry.background.cancel(taken, KEEP_MS)).toEqual({ kind: 'cancelled' });
      expect(await registry.background.handOver(taken)).toBe(false);
      expect(await registry.background.start(running)).toEqual({ kind: 'started', attempts: 1 });
      expect(await registry.background.handOver(running)).toBe(true);
      expect(await registry.background.cancel(running, KEEP_MS)).toEqual({ kind: 'requested' });
      await waitFor('the cancels heard', () => heard.length === 3, { timeoutMs: 5000 });
      expect(heard).toEqual([queued, taken, running]);
      expect(await registry.background.cancelRequested(running)).toBe(true);
      // Taken up again (its router died), it is not handed over again.
      expect(await registry.background.start(running)).toEqual({ kind: 'started', attempts: 2 });
      expect(await registry.background.handOver(running)).toBe(false);
      expect(await registry.background.finish(running, 'cancelled', null, KEEP_MS)).toBe(true);
      expect(await registry.background.cancel(running, KEEP_MS)).toEqual({ kind: 'final', state: 'cancelled' });
      expect(await registry.background.cancel(randomUUID(), KEEP_MS)).toEqual({ kind: 'missing' });
    } finally {
      await stop();
    }
  });

  it('a record made final at once, webhook records, batches, many at a time', async () => {
    const id = randomUUID();
    await registry.background.create(id, {
      createdAt: new Date(),
      ttlMs: KEEP_MS,
      keyName: 'alice',
      batchId: 'b',
      webhook: { url: 'http://127.0.0.1:1/', deliveryId: 'd', state: 'pending', attempts: [] },
      final: { state: 'done', answer: { result: result(id, 'x') } },
    });
    await registry.background.setWebhook(id, { url: 'http://127.0.0.1:1/', deliveryId: 'd', state: 'delivered', attempts: [{ attempt: 1, at: 'now', httpStatus: 200, ok: true, durationMs: 3 }] });
    await registry.background.setWebhook(randomUUID(), { url: 'x', deliveryId: 'd', state: 'failed', attempts: [] }); // gone: nothing made
    const [got, none] = await registry.background.getMany([id, randomUUID()]);
    expect(got).toMatchObject({ state: 'done', attempts: 1, batchId: 'b', result: { stdout: 'x' }, webhook: { state: 'delivered' } });
    expect(none).toBeNull();
    expect((await registry.background.getOwned(id))?.keyName).toBe('alice');
    expect((await registry.background.getOwned(id))?.tag).toBeNull();
    // An adapter's tag is kept as it is, and the record reads the same beside it.
    const tagged = randomUUID();
    await registry.background.create(tagged, { createdAt: new Date(), ttlMs: KEEP_MS, keyName: null, tag: '{"language_id":63}' });
    expect(await registry.background.getOwned(tagged)).toMatchObject({ tag: '{"language_id":63}', keyName: null, record: { state: 'queued' } });
    expect(await registry.background.start(tagged)).toEqual({ kind: 'started', attempts: 1 });
    expect((await registry.background.getOwned(tagged))?.tag).toBe('{"language_id":63}');
    await registry.background.createBatch('batch-1', [id], new Date(), KEEP_MS, 'alice');
    expect(await registry.background.getBatch('batch-1')).toEqual({ createdAt: expect.any(String), members: [id], keyName: 'alice' });
    expect(await registry.background.getBatch('batch-2')).toBeNull();
  });
});

describe('job queues (BullMQ): durable, cancellable, taken up again when their router dies', () => {
  let queues: JobQueues[] = [];
  const open = (): JobQueues => {
    const q = registry.openQueues(KEEP_MS);
    queues.push(q);
    return q;
  };
  afterEach(async () => {
    await Promise.all(queues.map((q) => q.close()));
    queues = [];
  });
  const entry = (id: string): ExecutionEntry => ({ id, submission: '{}', keyName: null });

  it('runs every entry once; an entry queued twice runs once', async () => {
    const q = open();
    const ran: string[] = [];
    const ids = Array.from({ length: 10 }, () => randomUUID());
    await q.addExecutions(ids.map(entry));
    await q.addExecutions([entry(ids[0]!)]);
    q.runExecutions(async (e) => (ran.push(e.id), 'done' as const), { concurrency: 3, lockMs: 5000, maxStalls: 2 }, () => undefined);
    await waitFor('every entry run', () => ran.length === 10, { timeoutMs: 10_000 });
    await new Promise((r) => setTimeout(r, 200));
    expect([...ran].sort()).toEqual([...ids].sort());
    expect((await q.counts()).executions).toEqual({ waiting: 0, active: 0, delayed: 0 });
  });

  it('cancel aborts the running entry of this router; a queued entry can be taken out', async () => {
    const q = open();
    const id = randomUUID();
    let aborted = false;
    let started = false;
    const runner = q.runExecutions(
      (_e, signal) =>
        new Promise<'done'>((resolve) => {
          started = true;
          signal.addEventListener('abort', () => {
            aborted = true;
            resolve('done');
          });
        }),
      { concurrency: 1, lockMs: 5000, maxStalls: 2 },
      () => undefined,
    );
    await q.addExecutions([entry(id)]);
    await waitFor('the entry started', () => started, { timeoutMs: 10_000 });
    expect(runner.cancel(id)).toBe(true);
    await waitFor('the entry aborted', () => aborted, { timeoutMs: 5000 });
    await runner.close();
    const queued = randomUUID();
    await q.addExecutions([entry(queued)]);
    expect((await q.counts()).executions.waiting).toBe(1);
    expect(await q.removeQueued(queued)).toBe(true);
    expect((await q.counts()).executions.waiting).toBe(0);
  });

  it('an entry whose router died is taken up by another once its lock runs out', async () => {
    const first = open();
    const id = randomUUID();
    let startedOnFirst = false;
    const dying = first.runExecutions(
      () =>
        new Promise<'done'>(() => {
          startedOnFirst = true; // never ends: its router is about to die
        }),
      { concurrency: 1, lockMs: 1000, maxStalls: 2 },
      () => undefined,
    );
    await first.addExecutions([entry(id)]);
    await waitFor('the entry started on the first router', () => startedOnFirst, { timeoutMs: 10_000 });
    await dying.close(true);
    const second = open();
    const ranOnSecond: string[] = [];
    second.runExecutions(async (e) => (ranOnSecond.push(e.id), 'done' as const), { concurrency: 1, lockMs: 1000, maxStalls: 2 }, () => undefined);
    await waitFor('the entry taken up by the second router', () => ranOnSecond.length === 1, { timeoutMs: 15_000 });
    expect(ranOnSecond).toEqual([id]);
  });

  it('an entry given back (its router shuts down before the hand-over) is taken up again', async () => {
    const q = open();
    const id = randomUUID();
    const seen: string[] = [];
    q.runExecutions(async (e) => (seen.push(e.id), seen.length === 1 ? 'give_back' : 'done'), { concurrency: 1, lockMs: 5000, maxStalls: 2 }, () => undefined);
    await q.addExecutions([entry(id)]);
    await waitFor('the entry run twice', () => seen.length === 2, { timeoutMs: 10_000 });
    expect(seen).toEqual([id, id]);
  });

  it('deliveries are retried with backoff until one succeeds; the last attempt is said to be last', async () => {
    const q = open();
    const attempts: { attempt: number; last: boolean }[] = [];
    const failed: string[] = [];
    q.runDeliveries(
      async (_e, attempt, last) => {
        attempts.push({ attempt, last });
        if (attempt < 3) throw new Error(`receiver said 500 (${attempt})`);
      },
      { concurrency: 1, lockMs: 5000, maxStalls: 2 },
      (e) => failed.push(e.deliveryId),
    );
    await q.addDelivery({ executionId: 'e', deliveryId: randomUUID(), url: 'http://127.0.0.1:1/', keyName: null }, { attempts: 3, backoffMs: 50 });
    await waitFor('three attempts', () => attempts.length === 3, { timeoutMs: 10_000 });
    expect(attempts).toEqual([
      { attempt: 1, last: false },
      { attempt: 2, last: false },
      { attempt: 3, last: true },
    ]);
    expect(failed).toEqual([]);
  });
});
