import { registry, router, routerHarness, slots, standIn, startWith, workerPort } from './harness';

/**
 * The Judge0 adapter's edges against a real router and Redis with stand-in workers: API keys as
 * X-Auth-Token, and a queue with no slot in time answered as Judge0's `queue is full`.
 */
const host = 'j0';
routerHarness({ host, prefixName: 'compat', queueTimeoutMs: 200, startEachTest: false });
const KEY = 'judge0-key-of-alice-00001';
const OTHER = 'judge0-key-of-bob-0000002';
const SUBMISSION = JSON.stringify({ source_code: 'console.log(1)', language_id: 63 });

/** Slot 0's stand-in worker: answers every job `1\n` at once, then puts its slot back as a worker does. */
async function oneSlot(): Promise<void> {
  await standIn(0, (req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json', 'x-corral-status': 'ok' });
      res.end(JSON.stringify({ id: req.headers['x-corral-request-id'], status: 'ok', exitCode: 0, signal: null, stdout: '1\n', stderr: '', truncated: false, durationMs: 1, cpuMs: 1, memoryBytes: 4096 }));
      void registry.slots.ready(host, `${host}:0`, String(req.headers['x-corral-token']), 1, workerPort);
    });
  });
  await slots(1);
}

async function submit(headers: Record<string, string>, path = '/submissions?wait=true'): Promise<{ status: number; headers: Headers; text: string }> {
  const res = await fetch(`${router.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: SUBMISSION });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

describe('Judge0 with API keys on', () => {
  it('X-Auth-Token (or corral\'s Bearer) is the key; none or a wrong one is 401 with no body; a token is its key\'s alone', async () => {
    await startWith({ CORRAL_API_KEYS: `alice:${KEY},bob:${OTHER}` });
    await oneSlot();
    const none = await submit({});
    expect([none.status, none.text, none.headers.get('x-corral-error')]).toEqual([401, '', 'unauthorized']);
    expect((await submit({ 'x-auth-token': 'not-a-key-not-a-key-00' })).status).toBe(401);
    const served = await submit({ 'x-auth-token': KEY });
    expect(served.status).toBe(201);
    const answer = JSON.parse(served.text) as { token: string; stdout: string; status: { id: number } };
    expect([answer.stdout, answer.status.id]).toEqual(['1\n', 3]);
    expect((await submit({ authorization: `Bearer ${KEY}` })).status).toBe(201);
    const read = (key: string): Promise<number> => fetch(`${router.url}/submissions/${answer.token}`, { headers: { 'x-auth-token': key } }).then((r) => r.status);
    expect(await read(KEY)).toBe(200);
    expect(await read(OTHER)).toBe(404);
    expect((await fetch(`${router.url}/languages?X-Auth-Token=${KEY}`)).status).toBe(200);
  });
});

describe('Judge0 when no slot comes in time', () => {
  it('wait=true with every slot busy past the queue deadline: 503 queue is full, corral\'s code beside it', async () => {
    await startWith({});
    // A published slot that never becomes idle: the request waits its 200 ms, then gives up.
    await registry.slots.publish(host, 'loopback', [{ id: `${host}:0`, ip: '127.0.0.1' }]);
    const refused = await submit({});
    expect(refused.status).toBe(503);
    expect(JSON.parse(refused.text)).toEqual({ error: 'queue is full' });
    expect(refused.headers.get('x-corral-error')).toBe('no_capacity');
  });
});
