import { fakeFetch, NO_CAPACITY, QUEUE_FULL, RESULT, type Scripted } from '../test/fake-fetch';
import { CorralClient } from './client';
import type { CorralClientError } from './errors';
import type { CorralClientOptions } from './types';

const BASE = 'http://127.0.0.1:8080';

function client(script: Scripted[], options: Partial<CorralClientOptions> = {}) {
  const fake = fakeFetch(script);
  return { corral: new CorralClient({ baseUrl: BASE, fetch: fake.fetch, ...options }), calls: fake.calls };
}

/** The rejection of `promise`, which must reject. */
async function failure(promise: Promise<unknown>): Promise<CorralClientError> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (err: CorralClientError) => err,
  );
}

describe('retries of 429 and 503', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('are off by default: the first 503 is the answer', async () => {
    const { corral, calls } = client([{ status: 503, headers: { 'retry-after': '1' }, body: NO_CAPACITY }, { body: RESULT }]);
    const pending = failure(corral.execute({ code: '1' }));
    await jest.advanceTimersByTimeAsync(0);
    expect(await pending).toMatchObject({ code: 'no_capacity', httpStatus: 503, retryAfterMs: 1000 });
    expect(calls).toHaveLength(1);
  });

  it('wait what Retry-After asks for, then send the same request again', async () => {
    const { corral, calls } = client(
      [{ status: 503, headers: { 'retry-after': '1' }, body: NO_CAPACITY }, { status: 429, headers: { 'retry-after': '2' }, body: QUEUE_FULL }, { body: RESULT }],
      { retries: 2 },
    );
    const pending = corral.execute({ code: 'console.log("hi")' });
    await jest.advanceTimersByTimeAsync(0);
    expect(calls).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(999);
    expect(calls).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(1);
    expect(calls).toHaveLength(2);
    await jest.advanceTimersByTimeAsync(1999);
    expect(calls).toHaveLength(2);
    await jest.advanceTimersByTimeAsync(1);
    expect(await pending).toEqual(RESULT);
    expect(calls).toHaveLength(3);
    expect(new Set(calls.map((c) => c.init.body))).toEqual(new Set([JSON.stringify({ code: 'console.log("hi")' })]));
  });

  it('back off from retryDelayMs, doubling, when the answer has no Retry-After', async () => {
    const { corral, calls } = client([{ status: 503, body: NO_CAPACITY }, { status: 503, body: NO_CAPACITY }, { body: RESULT }], { retryDelayMs: 100 });
    const pending = corral.execute({ code: '1' }, { retries: 5 });
    await jest.advanceTimersByTimeAsync(99);
    expect(calls).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(1);
    expect(calls).toHaveLength(2);
    await jest.advanceTimersByTimeAsync(199);
    expect(calls).toHaveLength(2);
    await jest.advanceTimersByTimeAsync(1);
    expect(await pending).toEqual(RESULT);
  });

  it('stop after `retries` more attempts and throw the last answer', async () => {
    const { corral, calls } = client([{ status: 503, headers: { 'retry-after': '1' }, body: NO_CAPACITY }], { retries: 2 });
    const pending = failure(corral.execute({ code: '1' }));
    await jest.advanceTimersByTimeAsync(5000);
    expect(await pending).toMatchObject({ code: 'no_capacity', httpStatus: 503 });
    expect(calls).toHaveLength(3);
  });

  it('leave other failures alone: 400, 401, 500, 502 are answered at once', async () => {
    for (const [status, code] of [
      [400, 'invalid_request'],
      [401, 'unauthorized'],
      [500, 'internal'],
      [502, 'worker_failed'],
    ] as const) {
      const { corral, calls } = client([{ status, headers: { 'retry-after': '1' }, body: { error: { code, message: code } } }], { retries: 3 });
      const pending = failure(corral.execute({ code: '1' }));
      await jest.advanceTimersByTimeAsync(0);
      expect(await pending).toMatchObject({ code, httpStatus: status });
      expect(calls).toHaveLength(1);
    }
  });

  it('do not wait longer than maxRetryDelayMs: such an answer is final', async () => {
    const { corral, calls } = client([{ status: 429, headers: { 'retry-after': '60' }, body: QUEUE_FULL }, { body: RESULT }], { retries: 3, maxRetryDelayMs: 10_000 });
    const pending = failure(corral.execute({ code: '1' }));
    await jest.advanceTimersByTimeAsync(0);
    expect(await pending).toMatchObject({ code: 'queue_full', retryAfterMs: 60_000 });
    expect(calls).toHaveLength(1);
  });

  it('give up with the answer in hand when the wait would pass the call deadline', async () => {
    const { corral, calls } = client([{ status: 503, headers: { 'retry-after': '2' }, body: NO_CAPACITY }, { body: RESULT }], { retries: 3 });
    const pending = failure(corral.execute({ code: '1' }, { timeoutMs: 1500 }));
    await jest.advanceTimersByTimeAsync(0);
    expect(await pending).toMatchObject({ code: 'no_capacity' });
    expect(calls).toHaveLength(1);
  });

  it('are cut short by an abort during the wait', async () => {
    const { corral, calls } = client([{ status: 503, headers: { 'retry-after': '5' }, body: NO_CAPACITY }, { body: RESULT }], { retries: 1 });
    const controller = new AbortController();
    const pending = failure(corral.execute({ code: '1' }, { signal: controller.signal }));
    await jest.advanceTimersByTimeAsync(1000);
    controller.abort(new Error('the user left'));
    expect(await pending).toMatchObject({ code: 'request_aborted', httpStatus: null, cause: new Error('the user left') });
    await jest.advanceTimersByTimeAsync(10_000);
    expect(calls).toHaveLength(1);
  });

  it('with raw: the last answer comes back as a value', async () => {
    const { corral, calls } = client([{ status: 503, headers: { 'retry-after': '1' }, body: NO_CAPACITY }], { retries: 1 });
    const pending = corral.execute({ code: '1' }, { raw: true });
    await jest.advanceTimersByTimeAsync(1000);
    const answer = await pending;
    expect(answer).toMatchObject({ ok: false, status: 503, body: NO_CAPACITY, error: { code: 'no_capacity' } });
    expect(answer.headers.get('retry-after')).toBe('1');
    expect(calls).toHaveLength(2);
  });
});

describe('timeouts and aborts', () => {
  it('timeoutMs ends a call that gets no answer, and aborts its fetch', async () => {
    const { corral, calls } = client([{ delayMs: Infinity }]);
    const started = Date.now();
    const err = await failure(corral.pool({ timeoutMs: 50 }));
    expect(err).toMatchObject({ code: 'request_timeout', httpStatus: null, message: `GET ${BASE}/v1/pool: no answer within 50 ms` });
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    expect(calls[0]!.init.signal.aborted).toBe(true);
  });

  it("the client's timeoutMs is every call's default; a call's own wins", async () => {
    const { corral } = client([{ delayMs: 100, body: RESULT }], { timeoutMs: 20 });
    expect(await failure(corral.execute({ code: '1' }))).toMatchObject({ code: 'request_timeout' });
    expect(await corral.execute({ code: '1' }, { timeoutMs: 2000 })).toEqual(RESULT);
  });

  it('an abort ends the call with request_aborted and the reason as cause', async () => {
    const { corral, calls } = client([{ delayMs: Infinity }]);
    const controller = new AbortController();
    const pending = failure(corral.execute({ code: '1' }, { signal: controller.signal }));
    await new Promise((r) => setTimeout(r, 10));
    controller.abort(new Error('stop'));
    expect(await pending).toMatchObject({ code: 'request_aborted', cause: new Error('stop') });
    expect(calls[0]!.init.signal.aborted).toBe(true);
  });

  it('an already aborted signal sends nothing that could run', async () => {
    const { corral, calls } = client([{ body: RESULT }]);
    const err = await failure(corral.execute({ code: '1' }, { signal: AbortSignal.abort(new Error('too late')) }));
    expect(err.code).toBe('request_aborted');
    expect(calls.every((c) => c.init.signal.aborted)).toBe(true);
  });

  it('a failed connection is a network_error that says why', async () => {
    const refused = Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8080'), { code: 'ECONNREFUSED' }) });
    const { corral } = client([{ fail: refused }]);
    const err = await failure(corral.health());
    expect(err).toMatchObject({ code: 'network_error', httpStatus: null, message: `GET ${BASE}/healthz: fetch failed (ECONNREFUSED)` });
    expect(err.cause).toBe(refused);
  });

  it('a success whose body is not JSON is an invalid_response', async () => {
    const { corral } = client([{ status: 200, body: 'hello' }]);
    expect(await failure(corral.pool())).toMatchObject({ code: 'invalid_response', httpStatus: 200 });
  });
});
