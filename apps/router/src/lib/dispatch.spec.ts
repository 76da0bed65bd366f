import type { ApiKey } from '@corral/config';
import { CorralError, type Job, type Lease } from '@corral/contracts';
import { RegistryUnavailableError, type Admission } from '@corral/registry';
import { dispatchExecution, type DispatchContext } from './dispatch';
import type { Attempt } from './proxy';

const job: Job = { language: 'javascript', files: [{ name: 'main.js', content: '1', encoding: 'utf8' }], entry: 'main.js', collect: [], stdin: '', args: [], timeoutMs: 5000, cpuMs: 5000, memoryMb: 128 };
const key: ApiKey = { name: 'alice', sha256: 'x', ratePerMinute: 10, maxConcurrent: 2 };
const lease = (i: number): Lease => ({ slotId: `h:${i}`, host: 'h', ip: `127.0.0.${i + 1}`, port: 7070, token: `t${i}` });
const answered: Attempt = { kind: 'answered', httpStatus: 200, executionStatus: 'ok' };

/**
 * The world dispatch talks to, in memory: `slots` are what successive acquires get (a lease or
 * an error), `attempts` how each slot's worker takes the job, `released` whether giving a claim
 * back proves the job never started. Every call is recorded.
 */
function world(
  o: {
    slots?: (Lease | Error)[];
    attempts?: Record<string, Attempt>;
    released?: boolean | Error;
    admission?: Admission | Error;
    onAcquire?: () => void;
  } = {},
) {
  const slots = [...(o.slots ?? [lease(0), lease(1), lease(2), lease(3), lease(4)])];
  const calls = {
    acquired: [] as string[],
    handedTo: [] as string[],
    released: [] as string[],
    markedDead: [] as string[],
    admitted: [] as string[],
    keyReleased: [] as string[],
    queueWaits: 0,
    proxyErrors: [] as string[],
    logged: [] as string[],
  };
  const clientGone = new AbortController();
  const log = (message: string): void => void calls.logged.push(message);
  const ctx: DispatchContext = {
    requestId: 'req-1',
    key: null,
    arrivedAt: 1000,
    signal: clientGone.signal,
    queueTimeoutMs: 2000,
    maxRetries: 2,
    handOver: async (l) => {
      calls.handedTo.push(l.slotId);
      return o.attempts?.[l.slotId] ?? answered;
    },
    ports: {
      admission: {
        admit: async (keyName) => {
          calls.admitted.push(keyName);
          if (o.admission instanceof Error) throw o.admission;
          return o.admission ?? { admitted: true };
        },
        release: async (keyName) => void calls.keyReleased.push(keyName),
      },
      slots: {
        acquire: async (requestId, deadlineAt) => {
          calls.acquired.push(`${requestId}@${deadlineAt}`);
          o.onAcquire?.();
          const next = slots.shift();
          if (!next) throw new Error('the test gave no more slots');
          if (next instanceof Error) throw next;
          return next;
        },
      },
      claims: {
        release: async (l) => {
          calls.released.push(l.slotId);
          if (o.released instanceof Error) throw o.released;
          return o.released ?? true;
        },
        markDead: async (l) => {
          calls.markedDead.push(l.slotId);
          return true;
        },
      },
      metrics: { queueWait: () => void (calls.queueWaits += 1), proxyError: (reason) => void calls.proxyErrors.push(reason) },
      clock: { now: () => 1250 },
      log: { info: (_f, m) => log(m), warn: (_f, m) => log(m), error: (_f, m) => log(m) },
    },
  };
  return { ctx, calls, clientGone };
}

const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('dispatchExecution', () => {
  it('answered: the first slot takes the job; its wait is measured once', async () => {
    const { ctx, calls } = world();
    expect(await dispatchExecution(job, ctx)).toEqual({ kind: 'answered', slotId: 'h:0', attempt: 0, httpStatus: 200, executionStatus: 'ok' });
    expect(calls.acquired).toEqual(['req-1@3000']); // arrival + queue timeout
    expect(calls).toMatchObject({ handedTo: ['h:0'], released: [], markedDead: [], queueWaits: 1, proxyErrors: [] });
  });

  it.each([
    ['no_capacity', { kind: 'no_capacity', waitedMs: 250 }],
    ['queue_full', { kind: 'queue_full', message: '9 requests wait' }],
    ['shutting_down', { kind: 'shutting_down' }],
  ] as const)('%s: no slot for the job, and nothing handed over', async (code, outcome) => {
    const { ctx, calls } = world({ slots: [new CorralError(code, code === 'queue_full' ? '9 requests wait' : undefined)] });
    expect(await dispatchExecution(job, ctx)).toEqual(outcome);
    expect(calls.handedTo).toEqual([]);
  });

  it('rate limited: the key is over its rate; nothing is queued and nothing released', async () => {
    const { ctx, calls } = world({ admission: { admitted: false, limit: 'rate', retryAfterMs: 1500 } });
    expect(await dispatchExecution(job, { ...ctx, key })).toEqual({ kind: 'rate_limited', keyName: 'alice', ratePerMinute: 10, retryAfterMs: 1500 });
    await settle();
    expect(calls).toMatchObject({ admitted: ['alice'], acquired: [], keyReleased: [] });
  });

  it('concurrency limited: the key has as many executions as it may', async () => {
    const { ctx, calls } = world({ admission: { admitted: false, limit: 'concurrency', retryAfterMs: 0 } });
    expect(await dispatchExecution(job, { ...ctx, key })).toEqual({ kind: 'concurrency_limited', keyName: 'alice', maxConcurrent: 2 });
    expect(calls.acquired).toEqual([]);
  });

  it('an admitted key is released once the request has ended, whatever the ending', async () => {
    for (const slots of [[lease(0)], [new CorralError('no_capacity')], [new Error('a bug')]]) {
      const { ctx, calls } = world({ slots });
      await dispatchExecution(job, { ...ctx, key }).catch(() => undefined);
      await settle();
      expect(calls.keyReleased).toEqual(['alice']);
    }
  });

  it('unavailable: the registry cannot be reached, for the slot or for the key', async () => {
    const down = new RegistryUnavailableError('The registry (Redis) cannot be reached: Connection is closed.');
    expect(await dispatchExecution(job, world({ slots: [down] }).ctx)).toEqual({ kind: 'unavailable', cause: 'registry' });
    const { ctx, calls } = world({ admission: down });
    expect(await dispatchExecution(job, { ...ctx, key })).toEqual({ kind: 'unavailable', cause: 'registry' });
    expect(calls.acquired).toEqual([]);
  });

  it('any other failure is not an outcome: it rejects', async () => {
    await expect(dispatchExecution(job, world({ slots: [new Error('a bug')] }).ctx)).rejects.toThrow('a bug');
  });

  it('not started: retried on another slot; a refused connection takes its slot out, a refused job gives the claim back', async () => {
    const { ctx, calls } = world({
      attempts: {
        'h:0': { kind: 'not_started', slotDead: true, reason: 'ECONNREFUSED' },
        'h:1': { kind: 'not_started', slotDead: false, reason: 'worker answered bad_token' },
      },
    });
    expect(await dispatchExecution(job, ctx)).toMatchObject({ kind: 'answered', slotId: 'h:2', attempt: 2 });
    expect(calls).toMatchObject({ handedTo: ['h:0', 'h:1', 'h:2'], markedDead: ['h:0'], released: ['h:1'], queueWaits: 1 });
    expect(calls.proxyErrors).toEqual(['ECONNREFUSED', 'worker answered bad_token']);
  });

  it('not started on every slot: unavailable after maxRetries other slots', async () => {
    const refused: Attempt = { kind: 'not_started', slotDead: true, reason: 'ECONNREFUSED' };
    const { ctx, calls } = world({ attempts: { 'h:0': refused, 'h:1': refused, 'h:2': refused, 'h:3': refused } });
    expect(await dispatchExecution(job, ctx)).toEqual({ kind: 'unavailable', cause: 'retries', attempts: 3 });
    expect(calls.handedTo).toEqual(['h:0', 'h:1', 'h:2']);
    expect(calls.markedDead).toEqual(['h:0', 'h:1', 'h:2']);
  });

  it('failed after the hand-over, but the claim release proves it never started: retried elsewhere', async () => {
    const { ctx, calls } = world({ attempts: { 'h:0': { kind: 'failed', reason: 'ECONNRESET' } }, released: true });
    expect(await dispatchExecution(job, ctx)).toMatchObject({ kind: 'answered', slotId: 'h:1', attempt: 1 });
    expect(calls).toMatchObject({ handedTo: ['h:0', 'h:1'], released: ['h:0'], markedDead: [] });
  });

  it.each([
    ['the token was used', false],
    ['the registry cannot say', new RegistryUnavailableError('down')],
  ] as const)('failed after the hand-over and it may have run (%s): 502, the slot taken out, never retried', async (_why, released) => {
    const { ctx, calls } = world({ attempts: { 'h:0': { kind: 'failed', reason: 'ECONNRESET' } }, released });
    expect(await dispatchExecution(job, ctx)).toEqual({ kind: 'worker_failed', slotId: 'h:0', reason: 'ECONNRESET' });
    expect(calls).toMatchObject({ handedTo: ['h:0'], released: ['h:0'], markedDead: ['h:0'], acquired: ['req-1@3000'] });
  });

  it('client gone while queued: the wait ends, nothing is handed over', async () => {
    const { ctx, calls, clientGone } = world({ slots: [new Error('client went away')], onAcquire: () => clientGone.abort() });
    expect(await dispatchExecution(job, ctx)).toEqual({ kind: 'client_gone' });
    expect(calls.handedTo).toEqual([]);
  });

  it('client gone just as a slot was assigned: the claim is given back', async () => {
    const { ctx, calls, clientGone } = world({ onAcquire: () => clientGone.abort() });
    expect(await dispatchExecution(job, { ...ctx, key })).toEqual({ kind: 'client_gone' });
    await settle();
    expect(calls).toMatchObject({ handedTo: [], released: ['h:0'], keyReleased: ['alice'] });
  });

  it.each([
    ['the worker never started the job: the claim is given back', true],
    ['the worker started it (and stops it as its connection closes): the slot is the worker\'s to put back', false],
    ['the registry cannot be reached: the claim runs out', new RegistryUnavailableError('down')],
  ] as const)('client gone after the hand-over (%s); never retried, never a worker failure', async (_why, released) => {
    const { ctx, calls } = world({ attempts: { 'h:0': { kind: 'client_gone' } }, released });
    expect(await dispatchExecution(job, { ...ctx, key })).toEqual({ kind: 'client_gone' });
    await settle();
    expect(calls).toMatchObject({ handedTo: ['h:0'], released: ['h:0'], markedDead: [], proxyErrors: [], acquired: ['req-1@3000'], keyReleased: ['alice'] });
  });
});
