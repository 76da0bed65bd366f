import type { BatchRecord, ExecutionRecord, RuntimesAnswer, TestsResult } from '@corral/contracts';
import { fakeFetch, RESULT, type Scripted } from '../test/fake-fetch';
import { CorralClient } from './client';

const BASE = 'http://127.0.0.1:8080';
const ID = '0b7f5e0c-9b7e-4c1e-8a3e-2f4c6d8e0a11';

function client(script: Scripted[]) {
  const fake = fakeFetch(script);
  return { corral: new CorralClient({ baseUrl: BASE, fetch: fake.fetch }), calls: fake.calls };
}

function record(state: ExecutionRecord['state'], extra: Partial<ExecutionRecord> = {}): ExecutionRecord {
  return { id: ID, state, createdAt: '2026-01-01T00:00:00.000Z', attempts: state === 'queued' ? 0 : 1, ...extra };
}

function batch(queued: number, running: number, done: number): BatchRecord {
  return { id: ID, createdAt: '2026-01-01T00:00:00.000Z', executions: [], states: { queued, running, done, cancelled: 0 } };
}

const TESTS: TestsResult = {
  id: ID,
  summary: { total: 1, accepted: 1, failed: 0, skipped: 0, status: 'accepted' },
  tests: [{ ...RESULT, index: 0, status: 'accepted' }],
};

describe('tests and background executions', () => {
  it('executeTests POSTs the tests and resolves with the verdicts', async () => {
    const { corral, calls } = client([{ body: TESTS }]);
    expect(await corral.executeTests({ code: 'x', tests: [{ stdin: '1', expected: '1' }], compare: 'tokens' })).toEqual(TESTS);
    expect(calls[0]!.url).toBe(`${BASE}/v1/executions`);
    expect(JSON.parse(calls[0]!.init.body!)).toEqual({ code: 'x', tests: [{ stdin: '1', expected: '1' }], compare: 'tokens' });
  });

  it('submit sends wait: false and resolves with the id', async () => {
    const { corral, calls } = client([{ status: 202, body: { id: ID, state: 'queued' } }]);
    expect(await corral.submit({ code: 'x' })).toEqual({ id: ID, state: 'queued' });
    expect(JSON.parse(calls[0]!.init.body!)).toEqual({ code: 'x', wait: false });
  });

  it('get and cancel address the record by its id', async () => {
    const { corral, calls } = client([{ body: record('running') }, { body: record('cancelled') }]);
    expect((await corral.get(ID)).state).toBe('running');
    expect((await corral.cancel(ID)).state).toBe('cancelled');
    expect(calls.map((c) => [c.init.method, c.url])).toEqual([
      ['GET', `${BASE}/v1/executions/${ID}`],
      ['DELETE', `${BASE}/v1/executions/${ID}`],
    ]);
  });

  it('get of an unknown id throws not_found with its code', async () => {
    const { corral } = client([{ status: 404, body: { error: { code: 'not_found', message: 'No execution.' } } }]);
    await expect(corral.get(ID)).rejects.toMatchObject({ name: 'CorralClientError', code: 'not_found', httpStatus: 404 });
  });

  it('an id is escaped into the path, never read as a path', async () => {
    const { corral, calls } = client([{ status: 400, body: { error: { code: 'invalid_id', message: 'not an id' } } }]);
    await expect(corral.get('../pool')).rejects.toMatchObject({ code: 'invalid_id' });
    expect(calls[0]!.url).toBe(`${BASE}/v1/executions/..%2Fpool`);
  });

  it('wait looks until the execution is done, with growing pauses, and resolves with the final record', async () => {
    const done = record('done', { result: RESULT });
    const { corral, calls } = client([{ body: record('queued') }, { body: record('running') }, { body: record('running') }, { body: done }]);
    expect(await corral.wait(ID, { intervalMs: 1 })).toEqual(done);
    expect(calls).toHaveLength(4);
  });

  it('wait ends on cancelled too', async () => {
    const { corral } = client([{ body: record('cancelled') }]);
    expect((await corral.wait(ID)).state).toBe('cancelled');
  });

  it('wait looks again through a 503 or a lost connection, not through a 404', async () => {
    const { corral, calls } = client([
      { status: 503, body: { error: { code: 'unavailable', message: 'Redis' } } },
      { fail: new TypeError('fetch failed') },
      { body: record('done', { result: RESULT }) },
    ]);
    expect((await corral.wait(ID, { intervalMs: 1 })).state).toBe('done');
    expect(calls).toHaveLength(3);
    const gone = client([{ status: 404, body: { error: { code: 'not_found', message: 'No execution.' } } }]);
    await expect(gone.corral.wait(ID, { intervalMs: 1 })).rejects.toMatchObject({ code: 'not_found' });
    expect(gone.calls).toHaveLength(1);
  });

  it('wait gives up after timeoutMs with the last state, and stops on abort', async () => {
    const { corral } = client([{ body: record('running') }]);
    await expect(corral.wait(ID, { timeoutMs: 50, intervalMs: 10 })).rejects.toMatchObject({
      code: 'request_timeout',
      message: `waiting for execution ${ID} to end: not within 50 ms; last: state running, 1 attempts`,
    });
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('enough')), 20);
    await expect(corral.wait(ID, { intervalMs: 5, signal: controller.signal })).rejects.toMatchObject({ code: 'request_aborted' });
  });

  it('submitBatch POSTs the members; getBatch and waitBatch read the batch until no member is left to run', async () => {
    const { corral, calls } = client([{ status: 202, body: { id: ID, executions: [ID] } }, { body: batch(1, 1, 0) }, { body: batch(0, 1, 1) }, { body: batch(0, 0, 2) }]);
    expect(await corral.submitBatch([{ code: 'a' }, { code: 'b' }])).toEqual({ id: ID, executions: [ID] });
    expect(JSON.parse(calls[0]!.init.body!)).toEqual({ executions: [{ code: 'a' }, { code: 'b' }] });
    expect((await corral.getBatch(ID)).states.queued).toBe(1);
    expect((await corral.waitBatch(ID, { intervalMs: 1 })).states).toEqual({ queued: 0, running: 0, done: 2, cancelled: 0 });
    expect(calls.slice(1).map((c) => c.url)).toEqual(Array(3).fill(`${BASE}/v1/batches/${ID}`));
  });

  it('runtimes resolves with the runtimes answer', async () => {
    const answer: RuntimesAnswer = { runtime: { name: 'node', version: '24.1.0' }, languages: [], packages: [{ name: 'lodash', version: '4.17.21' }] };
    const { corral, calls } = client([{ body: answer }]);
    expect(await corral.runtimes()).toEqual(answer);
    expect(calls[0]!.url).toBe(`${BASE}/v1/runtimes`);
  });
});
