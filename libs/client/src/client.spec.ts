import type { PoolAnswer } from '@corral/contracts';
import { fakeFetch, NO_CAPACITY, RESULT, type Scripted } from '../test/fake-fetch';
import { CorralClient } from './client';
import type { CorralClientError } from './errors';
import type { CorralClientOptions } from './types';

const BASE = 'http://127.0.0.1:8080';

function client(script: Scripted[], options: Partial<CorralClientOptions> = {}) {
  const fake = fakeFetch(script);
  return { corral: new CorralClient({ baseUrl: BASE, fetch: fake.fetch, ...options }), calls: fake.calls };
}

function pool(idle: number, total = 4): PoolAnswer {
  return { total, idle, busy: total - idle, booting: 0, dead: 0, slots: [], consistent: true, problems: [], queued: 0, hosts: [] };
}

describe('CorralClient', () => {
  it('execute POSTs the request as JSON and resolves with the result', async () => {
    const { corral, calls } = client([{ body: RESULT }]);
    expect(await corral.execute({ code: 'console.log("hi")', stdin: 'x', args: ['a'], timeoutMs: 1000 })).toEqual(RESULT);
    expect(calls).toEqual([
      {
        url: `${BASE}/v1/executions`,
        init: {
          method: 'POST',
          headers: { accept: 'application/json', 'content-type': 'application/json' },
          body: JSON.stringify({ code: 'console.log("hi")', stdin: 'x', args: ['a'], timeoutMs: 1000 }),
          signal: expect.any(AbortSignal),
        },
      },
    ]);
  });

  it('resolves an execution that ran, whatever the code did', async () => {
    const { corral } = client([{ body: { ...RESULT, status: 'timeout', exitCode: null, signal: 'SIGKILL' } }]);
    expect(await corral.execute({ code: 'for(;;){}' })).toMatchObject({ status: 'timeout', signal: 'SIGKILL' });
  });

  it('throws the router error with its code, status and Retry-After', async () => {
    const { corral } = client([{ status: 503, headers: { 'retry-after': '1', 'x-request-id': 'r-1' }, body: NO_CAPACITY }]);
    const err = (await corral.execute({ code: '1' }).catch((e: unknown) => e)) as CorralClientError;
    expect(err).toMatchObject({ name: 'CorralClientError', code: 'no_capacity', httpStatus: 503, retryAfterMs: 1000, requestId: 'r-1' });
    expect(err.message).toBe(NO_CAPACITY.error.message);
    expect(err.response?.body).toEqual(NO_CAPACITY);
  });

  it('with raw: resolves with status, headers and body of any HTTP answer', async () => {
    const { corral } = client([{ body: RESULT, headers: { 'x-request-id': RESULT.id } }, { status: 413, body: { error: { code: 'payload_too_large', message: 'too big' } } }]);
    const ok = await corral.execute({ code: '1' }, { raw: true });
    expect(ok).toMatchObject({ ok: true, status: 200, body: RESULT });
    expect(ok.headers.get('x-request-id')).toBe(RESULT.id);
    const tooBig = await corral.execute({ code: 'x' }, { raw: true });
    expect(tooBig).toMatchObject({ ok: false, status: 413, body: { error: { code: 'payload_too_large' } }, error: { code: 'payload_too_large', httpStatus: 413 } });
  });

  it('sends the API key as a Bearer token, and extra headers, on every call', async () => {
    const { corral, calls } = client([{ body: pool(4) }], { apiKey: 'k'.repeat(20), headers: { 'user-agent': 'corral-test' } });
    await corral.pool();
    await corral.health();
    for (const call of calls) expect(call.init.headers).toMatchObject({ authorization: `Bearer ${'k'.repeat(20)}`, 'user-agent': 'corral-test' });
    expect(calls.map((c) => [c.init.method, c.init.body])).toEqual([
      ['GET', undefined],
      ['GET', undefined],
    ]);
  });

  it('keeps a path prefix of the base URL and drops its trailing slash', async () => {
    const { corral, calls } = client([{ body: { status: 'ok' } }], { baseUrl: 'https://example.com/corral/' });
    expect(corral.baseUrl).toBe('https://example.com/corral');
    expect(await corral.health()).toEqual({ status: 'ok' });
    expect(calls[0]!.url).toBe('https://example.com/corral/healthz');
  });

  it('refuses a base URL that is not absolute', () => {
    expect(() => new CorralClient({ baseUrl: '127.0.0.1:8080/' })).toThrow();
  });

  it('pool resolves with the pool answer', async () => {
    const { corral, calls } = client([{ body: pool(3) }]);
    expect(await corral.pool()).toEqual(pool(3));
    expect(calls[0]!.url).toBe(`${BASE}/v1/pool`);
  });

  it('ready is true with an idle slot, false on 503, and throws on anything else', async () => {
    const { corral, calls } = client([
      { body: { ready: true, idle: 1, total: 4 } },
      { status: 503, body: { error: { code: 'unavailable', message: 'No idle slot.' } } },
      { status: 401, body: { error: { code: 'unauthorized', message: 'A valid API key is required.' } } },
    ]);
    expect(await corral.ready()).toBe(true);
    expect(await corral.ready()).toBe(false);
    await expect(corral.ready()).rejects.toMatchObject({ code: 'unauthorized', httpStatus: 401 });
    expect(calls.map((c) => c.url)).toEqual(Array(3).fill(`${BASE}/readyz`));
  });

  it('ready with raw: the answer and its body', async () => {
    const { corral } = client([{ body: { ready: true, idle: 2, total: 4 } }]);
    expect(await corral.ready({ raw: true })).toMatchObject({ ok: true, status: 200, body: { ready: true, idle: 2, total: 4 } });
  });

  it('uses the global fetch when given none, looked up at the call', async () => {
    const original = globalThis.fetch;
    const fake = fakeFetch([{ body: { status: 'ok' } }]);
    globalThis.fetch = fake.fetch as unknown as typeof fetch;
    try {
      expect(await new CorralClient({ baseUrl: BASE }).health()).toEqual({ status: 'ok' });
      expect(fake.calls[0]!.url).toBe(`${BASE}/healthz`);
    } finally {
      globalThis.fetch = original;
    }
  });
});

describe('waitUntilIdle', () => {
  it('looks at the pool until every slot is idle and resolves with that pool', async () => {
    const { corral, calls } = client([{ body: pool(1) }, { body: pool(3) }, { body: pool(4) }]);
    expect(await corral.waitUntilIdle({ intervalMs: 1 })).toEqual(pool(4));
    expect(calls).toHaveLength(3);
  });

  it('with slots: resolves once that many are idle', async () => {
    const { corral, calls } = client([{ body: pool(1) }, { body: pool(2) }]);
    expect((await corral.waitUntilIdle({ slots: 2, intervalMs: 1 })).idle).toBe(2);
    expect(calls).toHaveLength(2);
  });

  it('does not count an empty pool as idle', async () => {
    const { corral, calls } = client([{ body: pool(0, 0) }, { body: pool(2, 2) }]);
    expect((await corral.waitUntilIdle({ intervalMs: 1 })).total).toBe(2);
    expect(calls).toHaveLength(2);
  });

  it('looks again while the router is unreachable or unavailable', async () => {
    const { corral, calls } = client([{ fail: new TypeError('fetch failed') }, { status: 503, body: { error: { code: 'unavailable', message: 'Redis' } } }, { body: pool(4) }]);
    expect((await corral.waitUntilIdle({ intervalMs: 1 })).idle).toBe(4);
    expect(calls).toHaveLength(3);
  });

  it('throws at once on an error that waiting does not fix', async () => {
    const { corral, calls } = client([{ status: 401, body: { error: { code: 'unauthorized', message: 'A valid API key is required.' } } }]);
    await expect(corral.waitUntilIdle({ intervalMs: 1 })).rejects.toMatchObject({ code: 'unauthorized' });
    expect(calls).toHaveLength(1);
  });

  it('gives up after timeoutMs and says what it saw last', async () => {
    const { corral } = client([{ body: pool(3) }]);
    await expect(corral.waitUntilIdle({ timeoutMs: 60, intervalMs: 10 })).rejects.toMatchObject({
      code: 'request_timeout',
      message: `waiting for every slot of ${BASE} to be idle: not within 60 ms; last: the pool: 3/4 idle, 1 busy, 0 booting, 0 dead`,
    });
  });

  it('stops when its signal aborts', async () => {
    const { corral } = client([{ body: pool(3) }]);
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('enough')), 30);
    await expect(corral.waitUntilIdle({ intervalMs: 10, signal: controller.signal })).rejects.toMatchObject({ code: 'request_aborted' });
  });
});
