import { RESULT } from '../test/fake-fetch';
import { CorralClient } from './client';
import type { CorralClientError } from './errors';
import { SseParser } from './sse';
import type { ClientStreamEvent } from './stream';
import type { FetchInitLike, FetchLike } from './types';

const BASE = 'http://127.0.0.1:8080';

const BODY =
  'event: stdout\ndata: {"seq":0,"data":"line 0\\n"}\n\n' +
  ': heartbeat\n\n' +
  'event: stderr\r\ndata: {"seq":1,"data":"warn ✓\\n"}\r\n\r\n' +
  `event: result\ndata: ${JSON.stringify({ ...RESULT, stdout: '', stderr: '' })}\n\n`;

/** A fake fetch answering with a ReadableStream of `chunks` (bytes cut anywhere); `hold` keeps it open after them. */
function streaming(chunks: Uint8Array[], options: { status?: number; type?: string; hold?: boolean } = {}) {
  const calls: { url: string; init: FetchInitLike }[] = [];
  let cancelled = false;
  const fetch: FetchLike = async (url, init) => {
    calls.push({ url, init });
    let i = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        const chunk = chunks[i++];
        if (chunk) controller.enqueue(chunk);
        else if (!options.hold) controller.close();
        else return new Promise<void>(() => undefined);
        return undefined;
      },
      cancel() {
        cancelled = true;
      },
    });
    const headers = new Map([['content-type', options.type ?? 'text/event-stream; charset=utf-8']]);
    return { status: options.status ?? 200, headers: { get: (name: string) => headers.get(name) ?? null }, text: async () => '', body };
  };
  return { fetch, calls, cancelled: () => cancelled };
}

/** The bytes of `text` cut every `size` bytes (so through events, lines and a multi-byte character). */
function cut(text: string, size: number): Uint8Array[] {
  const bytes = new TextEncoder().encode(text);
  const out: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; at += size) out.push(bytes.slice(at, at + size));
  return out;
}

async function collect<R>(events: AsyncIterable<ClientStreamEvent<R>>): Promise<ClientStreamEvent<R>[]> {
  const out: ClientStreamEvent<R>[] = [];
  for await (const event of events) out.push(event);
  return out;
}

async function failure(promise: Promise<unknown>): Promise<CorralClientError> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (err: CorralClientError) => err,
  );
}

describe('SseParser', () => {
  it('joins data lines, skips comments and unknown fields, and waits for the blank line', () => {
    const parser = new SseParser();
    expect(parser.push('event: a\ndata: 1\nid: 7\ndata:2\n')).toEqual([]);
    expect(parser.push('\n: c\n\ndata: x\r')).toEqual([{ event: 'a', data: '1\n2' }]);
    expect(parser.push('\n\r\n')).toEqual([{ event: 'message', data: 'x' }]);
  });
});

describe('stream', () => {
  it.each([1, 3, 7, 64])('yields the events in order, then the result, with the body cut every %i bytes', async (size) => {
    const fake = streaming(cut(BODY, size));
    const corral = new CorralClient({ baseUrl: BASE, fetch: fake.fetch, apiKey: 'k' });
    const events = await collect(corral.stream({ code: 'x' }));
    expect(events).toEqual([
      { type: 'stdout', seq: 0, data: 'line 0\n' },
      { type: 'stderr', seq: 1, data: 'warn ✓\n' },
      { type: 'result', result: { ...RESULT, stdout: '', stderr: '' } },
    ]);
    expect(fake.calls[0]?.url).toBe(`${BASE}/v1/executions`);
    expect(fake.calls[0]?.init.headers).toMatchObject({ accept: 'text/event-stream', authorization: 'Bearer k' });
    expect(JSON.parse(fake.calls[0]?.init.body ?? '')).toEqual({ code: 'x' });
  });

  it('keeps the test index of a tests stream, and asks for the output with includeOutput', async () => {
    const fake = streaming(cut('event: stdout\ndata: {"seq":0,"data":"a","test":1}\n\nevent: result\ndata: {"tests":[]}\n\n', 5));
    const corral = new CorralClient({ baseUrl: BASE, fetch: fake.fetch });
    const events = await collect(corral.stream({ code: 'x', tests: [{ stdin: '' }] }, { includeOutput: true }));
    expect(events).toEqual([{ type: 'stdout', seq: 0, data: 'a', test: 1 }, { type: 'result', result: { tests: [] } }]);
    expect(fake.calls[0]?.url).toBe(`${BASE}/v1/executions?includeOutput=true`);
  });

  it('throws an error answer before the stream with its catalogue code and status', async () => {
    const body = { error: { code: 'invalid_request', message: 'bad', details: { problems: [] } } };
    const fetch: FetchLike = async () => ({ status: 400, headers: { get: (n: string) => (n === 'content-type' ? 'application/json' : null) }, text: async () => JSON.stringify(body) });
    const err = await failure(collect(new CorralClient({ baseUrl: BASE, fetch }).stream({ code: 'x' })));
    expect(err).toMatchObject({ code: 'invalid_request', httpStatus: 400, message: 'bad' });
  });

  it('retries a 503 before the stream, as the other methods do, when retries allow', async () => {
    const ok = streaming(cut(BODY, 16));
    const calls: string[] = [];
    const fetch: FetchLike = async (url, init) => {
      calls.push(url);
      if (calls.length === 1) return { status: 503, headers: { get: (n: string) => (n === 'retry-after' ? '0' : null) }, text: async () => JSON.stringify({ error: { code: 'no_capacity', message: 'busy' } }) };
      return ok.fetch(url, init);
    };
    const events = await collect(new CorralClient({ baseUrl: BASE, fetch, retries: 1 }).stream({ code: 'x' }));
    expect(calls).toHaveLength(2);
    expect(events.at(-1)?.type).toBe('result');
    const once: FetchLike = async () => ({ status: 503, headers: { get: () => null }, text: async () => JSON.stringify({ error: { code: 'no_capacity', message: 'busy' } }) });
    expect(await failure(collect(new CorralClient({ baseUrl: BASE, fetch: once }).stream({ code: 'x' })))).toMatchObject({ code: 'no_capacity', httpStatus: 503 });
  });

  it('throws an error event with its code, after the events before it', async () => {
    const fake = streaming(cut('event: stdout\ndata: {"seq":0,"data":"a"}\n\nevent: error\ndata: {"code":"worker_failed","message":"it broke"}\n\n', 4));
    const seen: ClientStreamEvent[] = [];
    const err = await failure(
      (async () => {
        for await (const event of new CorralClient({ baseUrl: BASE, fetch: fake.fetch }).stream({ code: 'x' })) seen.push(event);
      })(),
    );
    expect(err).toMatchObject({ code: 'worker_failed', message: 'it broke' });
    expect(seen).toEqual([{ type: 'stdout', seq: 0, data: 'a' }]);
  });

  it('is invalid_response when the stream ends without a result', async () => {
    const fake = streaming(cut('event: stdout\ndata: {"seq":0,"data":"a"}\n\n', 9));
    expect(await failure(collect(new CorralClient({ baseUrl: BASE, fetch: fake.fetch }).stream({ code: 'x' })))).toMatchObject({ code: 'invalid_response' });
  });

  it('an abort mid-stream throws request_aborted and cuts the request', async () => {
    const fake = streaming(cut('event: stdout\ndata: {"seq":0,"data":"a"}\n\n', 100), { hold: true });
    const abort = new AbortController();
    const seen: ClientStreamEvent[] = [];
    const err = await failure(
      (async () => {
        for await (const event of new CorralClient({ baseUrl: BASE, fetch: fake.fetch }).stream({ code: 'x' }, { signal: abort.signal })) {
          seen.push(event);
          abort.abort(new Error('enough'));
        }
      })(),
    );
    expect(err.code).toBe('request_aborted');
    expect(seen).toHaveLength(1);
    expect(fake.calls[0]?.init.signal.aborted).toBe(true);
  });

  it('leaving the loop early cuts the request and cancels the body', async () => {
    const fake = streaming(cut('event: stdout\ndata: {"seq":0,"data":"a"}\n\n', 100), { hold: true });
    for await (const event of new CorralClient({ baseUrl: BASE, fetch: fake.fetch }).stream({ code: 'x' })) {
      expect(event.type).toBe('stdout');
      break;
    }
    expect(fake.calls[0]?.init.signal.aborted).toBe(true);
    expect(fake.cancelled()).toBe(true);
  });

  it('a timeout mid-stream throws request_timeout', async () => {
    const fake = streaming([], { hold: true });
    const err = await failure(collect(new CorralClient({ baseUrl: BASE, fetch: fake.fetch }).stream({ code: 'x' }, { timeoutMs: 20 })));
    expect(err.code).toBe('request_timeout');
  });
});
