import WebSocket from 'ws';
import { waitFor, type Stack } from '@corral/devkit';
import { startQuietStack } from './helpers';
import { openSession, wsUrl, type Session } from './stream-helpers';

/**
 * Interactive programs over the WebSocket session (`GET /v1/executions/stream`) through the
 * real stack: stdin answered while the program runs, signals, the protocol's bad inputs (each an
 * `error` message with its catalogue code and the documented close code, never a stranded
 * slot), API keys and their concurrency, the wall limit of an idle session.
 */
const KEY = 'stream-test-key-0123456789';
const AUTH = { authorization: `Bearer ${KEY}` };
let stack: Stack;
beforeAll(async () => {
  // Pings every second (not 15): a client that stops answering them is dropped within two, long
  // before its 30 s run, and still after its program's first output even on a loaded machine.
  stack = await startQuietStack(2, { CORRAL_API_KEYS: `tester:${KEY}`, CORRAL_KEY_CONCURRENCY: '1', CORRAL_MAX_BODY_BYTES: String(64 * 1024), CORRAL_STREAM_HEARTBEAT_MS: '1000' });
}, 120_000);
afterAll(() => stack?.stop());

const sessions: Session[] = [];
afterEach(() => {
  for (const session of sessions.splice(0)) session.ws.terminate();
});

async function session(): Promise<Session> {
  const opened = await openSession(stack.url, AUTH);
  sessions.push(opened);
  return opened;
}

/** Idle slots, from /readyz (open without a key). */
async function idleSlots(): Promise<number> {
  const res = await fetch(`${stack.url}/readyz`);
  return res.status === 200 ? ((await res.json()) as { idle: number }).idle : 0;
}

const idleAgain = (timeoutMs = 10_000): Promise<unknown> => waitFor('both slots idle', async () => (await idleSlots()) === 2, { timeoutMs, intervalMs: 20 });

const LOOP = 'console.log("looping"); setInterval(() => {}, 1000);';

describe('WebSocket sessions', () => {
  it('an interactive program asks two questions with readline and gets its answers from the client', async () => {
    const s = await session();
    s.send({
      type: 'start',
      code: 'const rl = require("node:readline").createInterface({ input: process.stdin, output: process.stdout }); rl.question("Name? ", (name) => rl.question("Age? ", (age) => { console.log(`Hello ${name}, ${age}`); rl.close(); }));',
    });
    await s.next((m) => m['type'] === 'stdout' && String(m['data']).includes('Name? '));
    s.send({ type: 'stdin', data: 'Ada\n' });
    await s.next((m) => m['type'] === 'stdout' && String(m['data']).includes('Age? '));
    s.send({ type: 'stdin', data: '36\n' });
    // stdin stays open until the client ends it (a pipe the program still holds keeps it alive).
    s.send({ type: 'stdin_end' });
    const result = await s.next((m) => m['type'] === 'result');
    expect(s.text('stdout')).toBe('Name? Age? Hello Ada, 36\n');
    expect(result).toMatchObject({ type: 'result', status: 'ok', exitCode: 0 });
    expect(await s.closed).toEqual({ code: 1000, reason: 'done' });
    const seqs = s.messages.filter((m) => m['type'] === 'stdout').map((m) => m['seq']);
    expect(seqs).toEqual(seqs.map((_, i) => i));
  });

  it('SIGINT ends a looping program, and the result reports the signal', async () => {
    const s = await session();
    s.send({ type: 'start', code: LOOP, timeoutMs: 30_000 });
    await s.next((m) => m['type'] === 'stdout');
    s.send({ type: 'signal', signal: 'SIGINT' });
    const result = await s.next((m) => m['type'] === 'result');
    expect(result).toMatchObject({ status: 'error', signal: 'SIGINT' });
    expect((await s.closed).code).toBe(1000);
  });

  it('stdin_end ends the input; includeOutput puts the output in the result', async () => {
    const s = await session();
    s.send({ type: 'start', includeOutput: true, code: 'let all = ""; process.stdin.on("data", (d) => (all += d)); process.stdin.on("end", () => console.log(all.toUpperCase()));', stdin: 'a' });
    s.send({ type: 'stdin', data: 'b' });
    s.send({ type: 'stdin_end' });
    expect(await s.next((m) => m['type'] === 'result')).toMatchObject({ status: 'ok', stdout: 'AB\n' });
  });

  it('an idle interactive session ends at its timeoutMs like any execution', async () => {
    const s = await session();
    s.send({ type: 'start', code: 'process.stdin.on("data", () => {});', timeoutMs: 500 });
    expect(await s.next((m) => m['type'] === 'result')).toMatchObject({ status: 'timeout' });
    expect((await s.closed).code).toBe(1000);
  });

  it('a client that closes mid-run: the slot is idle again within a second', async () => {
    await idleAgain();
    const s = await session();
    s.send({ type: 'start', code: LOOP, timeoutMs: 30_000 });
    await s.next((m) => m['type'] === 'stdout');
    expect(await idleSlots()).toBe(1);
    s.ws.terminate();
    await idleAgain(1000);
  });

  it('a client cut off without a close (it answers no ping) is dropped, and its slot is idle again long before its timeoutMs', async () => {
    await idleAgain();
    // autoPong off: the socket stays open but answers nothing, as a peer behind a dead connection.
    const s = await openSession(stack.url, AUTH, { autoPong: false });
    sessions.push(s);
    s.send({ type: 'start', code: LOOP, timeoutMs: 30_000 });
    await s.next((m) => m['type'] === 'stdout');
    // Terminated by the router: no close frame (1006), and no result for a program still looping.
    expect((await s.closed).code).toBe(1006);
    expect(s.messages.map((m) => m['type'])).not.toContain('result');
    await idleAgain();
  });
});

describe('WebSocket bad input: an error message with its code, the documented close code, no stranded slot', () => {
  const cases: Array<[string, (s: Session) => Promise<void> | void, string, number]> = [
    ['stdin before start', (s) => s.send({ type: 'stdin', data: 'x' }), 'stream_not_started', 1008],
    ['a message that is not JSON', (s) => s.send('not json {'), 'stream_protocol', 1008],
    ['an unknown message type', (s) => s.send({ type: 'launch' }), 'stream_protocol', 1008],
    ['a binary frame', (s) => s.ws.send(Buffer.from([1, 2, 3])), 'stream_protocol', 1003],
    ['a start that is not a valid request', (s) => s.send({ type: 'start', code: 42 }), 'invalid_request', 1008],
    ['a frame over the size limit', (s) => s.send({ type: 'start', code: `//${'x'.repeat(70 * 1024)}` }), 'stream_frame_too_large', 1009],
    ['a second start while running', (s) => running(s, () => s.send({ type: 'start', code: '1' })), 'stream_already_started', 1008],
    ['an unknown signal while running', (s) => running(s, () => s.send({ type: 'signal', signal: 'SIGKILL' })), 'stream_unknown_signal', 1008],
    ['a frame over the size limit while running', (s) => running(s, () => s.send({ type: 'stdin', data: 'x'.repeat(70 * 1024) })), 'stream_frame_too_large', 1009],
    ['binary while running', (s) => running(s, () => s.ws.send(Buffer.alloc(8))), 'stream_protocol', 1003],
    [
      'a flood of signals (17) to a program that ignores them',
      async (s) => {
        s.send({ type: 'start', code: 'process.on("SIGINT", () => {}); setInterval(() => console.log("still here"), 50)', timeoutMs: 30_000 });
        await s.next((m) => m['type'] === 'stdout');
        for (let i = 0; i < 17; i++) s.send({ type: 'signal', signal: 'SIGINT' });
      },
      'stream_protocol',
      1008,
    ],
  ];

  async function running(s: Session, then: () => void): Promise<void> {
    s.send({ type: 'start', code: LOOP, timeoutMs: 30_000 });
    await s.next((m) => m['type'] === 'stdout');
    then();
  }

  it.each(cases)('%s', async (_name, act, code, closeCode) => {
    const s = await session();
    await act(s);
    const error = await s.next((m) => m['type'] === 'error');
    expect(error).toMatchObject({ type: 'error', code });
    expect(typeof error['message']).toBe('string');
    expect(await s.closed).toEqual({ code: closeCode, reason: code });
    await idleAgain(1000);
  });
});

describe('WebSocket and API keys', () => {
  it('the upgrade needs a valid key, and only at the session path', async () => {
    for (const [url, headers, status] of [
      [wsUrl(stack.url), {}, 401],
      [wsUrl(stack.url), { authorization: 'Bearer wrong-key-0123456789' }, 401],
      [`${stack.url.replace(/^http/, 'ws')}/v1/elsewhere`, AUTH, 404],
    ] as const) {
      const ws = new WebSocket(url, { headers });
      const refused = await new Promise<number>((resolve, reject) => {
        ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.once('open', () => reject(new Error('the upgrade was accepted')));
        ws.once('error', () => undefined);
      });
      ws.terminate();
      expect(refused).toBe(status);
    }
  });

  it("a key's concurrency counts sessions like blocking calls: the second gets concurrency_limited and 1013", async () => {
    await idleAgain();
    const first = await session();
    first.send({ type: 'start', code: LOOP, timeoutMs: 30_000 });
    await first.next((m) => m['type'] === 'stdout');
    const second = await session();
    second.send({ type: 'start', code: 'console.log(1)' });
    expect(await second.next((m) => m['type'] === 'error')).toMatchObject({ code: 'concurrency_limited' });
    expect((await second.closed).code).toBe(1013);
    first.ws.close();
    await idleAgain(1000);
    const third = await session();
    third.send({ type: 'start', code: 'console.log(3)' });
    expect(await third.next((m) => m['type'] === 'result')).toMatchObject({ status: 'ok' });
  });
});
