import { waitFor, type Stack } from '@corral/devkit';
import WebSocket from 'ws';
import { pool, startQuietStack } from './helpers';

/**
 * Piston's interactive endpoint, `GET /api/v2/connect` (engineer-man/piston api/src/api/v2.js and
 * its readme): `init`, `data`, `signal` in; `runtime`, `stage`, `data`, `exit`, `error` out; its
 * close codes. Against the real stack, with the `ws` client Piston's own CLI uses.
 */
let stack: Stack;

beforeAll(async () => {
  // Pings every second (not 15): a client that stops answering them is dropped within two, long
  // before its 30 s run, and still after its program's first output even on a loaded machine.
  stack = await startQuietStack(2, { CORRAL_STREAM_HEARTBEAT_MS: '1000' });
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

afterEach(async () => {
  await waitFor('every slot idle again', async () => (await pool(stack.url)).idle === 2, { timeoutMs: 15_000 });
});

interface Session {
  messages: Record<string, unknown>[];
  code: number;
  reason: string;
}

/**
 * Opens a session, sends `first` once open, then calls `onMessage` for each message (it may send
 * more); resolves at the close with every message received and the close code and reason.
 */
function session(first: unknown[], onMessage?: (message: Record<string, unknown>, ws: WebSocket) => void): Promise<Session> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${stack.url.replace('http', 'ws')}/api/v2/connect`);
    const messages: Record<string, unknown>[] = [];
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`the session did not close in time: ${JSON.stringify(messages)}`));
    }, 20_000);
    ws.on('open', () => {
      for (const message of first) ws.send(typeof message === 'string' ? message : JSON.stringify(message));
    });
    ws.on('message', (data) => {
      const message = JSON.parse(data.toString()) as Record<string, unknown>;
      messages.push(message);
      onMessage?.(message, ws);
    });
    ws.on('error', reject);
    ws.on('close', (code, reason) => {
      clearTimeout(timer);
      resolve({ messages, code, reason: reason.toString() });
    });
  });
}

const init = (code: string, extra: Record<string, unknown> = {}) => ({ type: 'init', language: 'javascript', version: '*', files: [{ content: code }], ...extra });

describe('Piston /api/v2/connect', () => {
  it('runs JavaScript: runtime, stage run, its output in pieces as data, exit, then 4999 Job Completed', async () => {
    const s = await session([init('console.log("one"); setTimeout(() => { console.error("two"); console.log("three"); }, 300);', { args: ['a'] })]);
    expect(s.code).toBe(4999);
    expect(s.reason).toBe('Job Completed');
    expect(s.messages[0]).toMatchObject({ type: 'runtime', language: 'javascript' });
    expect(s.messages[0]!['version']).toMatch(/^24\.\d+\.\d+$/);
    expect(s.messages[1]).toEqual({ type: 'stage', stage: 'run' });
    // stdout and stderr are two pipes: their order between each other is not kept, each stream's own is.
    const data = s.messages.filter((m) => m['type'] === 'data');
    expect(data[0]).toEqual({ type: 'data', stream: 'stdout', data: 'one\n' });
    expect(data.filter((m) => m['stream'] === 'stdout').map((m) => m['data'])).toEqual(['one\n', 'three\n']);
    expect(data.filter((m) => m['stream'] === 'stderr').map((m) => m['data'])).toEqual(['two\n']);
    expect(data).toHaveLength(3);
    expect(s.messages.at(-1)).toEqual({ type: 'exit', stage: 'run', code: 0, signal: null });
  });

  it('runs TypeScript, and a program that fails exits with its code', async () => {
    const ts = await session([{ type: 'init', language: 'ts', version: '*', files: [{ name: 'main.ts', content: 'const n: number = 6 * 7;\nconsole.log(n);' }] }]);
    expect(ts.messages[0]).toMatchObject({ type: 'runtime', language: 'typescript' });
    expect(ts.messages.filter((m) => m['type'] === 'data')).toEqual([{ type: 'data', stream: 'stdout', data: '42\n' }]);
    expect(ts.code).toBe(4999);
    const failed = await session([init('process.exit(3)')]);
    expect(failed.messages.at(-1)).toEqual({ type: 'exit', stage: 'run', code: 3, signal: null });
  });

  it("writes data frames to the program's stdin (init's stdin is discarded, as Piston's readme says)", async () => {
    const s = await session([init('process.stdin.once("data", (d) => { console.log("got " + d); process.exit(0); });', { stdin: 'from init' })], (message, ws) => {
      if (message['type'] === 'stage') ws.send(JSON.stringify({ type: 'data', stream: 'stdin', data: 'hello' }));
    });
    expect(s.messages.filter((m) => m['type'] === 'data')).toEqual([{ type: 'data', stream: 'stdout', data: 'got hello\n' }]);
    expect(s.code).toBe(4999);
  });

  it('a signal reaches the program (SIGTERM), and SIGKILL ends it with exit signal SIGKILL', async () => {
    const term = await session([init('process.on("SIGTERM", () => { console.log("terminated"); process.exit(7); }); console.log("ready"); setInterval(() => {}, 1000);')], (message, ws) => {
      if (message['type'] === 'data' && message['data'] === 'ready\n') ws.send(JSON.stringify({ type: 'signal', signal: 'SIGTERM' }));
    });
    expect(term.messages.filter((m) => m['type'] === 'data').map((m) => m['data'])).toEqual(['ready\n', 'terminated\n']);
    expect(term.messages.at(-1)).toEqual({ type: 'exit', stage: 'run', code: 7, signal: null });
    const kill = await session([init('console.log("ready"); setInterval(() => {}, 1000);')], (message, ws) => {
      if (message['type'] === 'data') ws.send(JSON.stringify({ type: 'signal', signal: 'SIGKILL' }));
    });
    expect(kill.messages.at(-1)).toEqual({ type: 'exit', stage: 'run', code: null, signal: 'SIGKILL' });
    expect(kill.code).toBe(4999);
  });

  it('a run past its run_timeout exits with signal SIGKILL', async () => {
    const s = await session([init('setInterval(() => {}, 1000)', { run_timeout: 500 })]);
    expect(s.messages.at(-1)).toEqual({ type: 'exit', stage: 'run', code: null, signal: 'SIGKILL' });
    expect(s.code).toBe(4999);
  });

  it('a client cut off without a close (it answers no ping) is dropped and its run stopped, long before its run_timeout', async () => {
    // autoPong off: the socket stays open but answers nothing, as a peer behind a dead connection.
    const ws = new WebSocket(`${stack.url.replace('http', 'ws')}/api/v2/connect`, { autoPong: false });
    const messages: Record<string, unknown>[] = [];
    ws.on('message', (data) => messages.push(JSON.parse(data.toString()) as Record<string, unknown>));
    ws.on('error', () => undefined); // the close that follows is what is tested
    ws.on('open', () => ws.send(JSON.stringify(init('console.log("ready"); setInterval(() => {}, 1000);', { run_timeout: 30_000 }))));
    const code = await new Promise<number>((resolve) => ws.on('close', (c) => resolve(c)));
    // Terminated, not closed: no close frame (1006), and no exit message for a job still running.
    expect(code).toBe(1006);
    expect(messages.map((m) => m['type'])).not.toContain('exit');
    expect(messages.some((m) => m['type'] === 'data' && m['data'] === 'ready\n')).toBe(true);
    // Its slot is back well before the 30 s run_timeout would have freed it.
    await waitFor('both slots idle after the dropped session', async () => (await pool(stack.url)).idle === 2, { timeoutMs: 10_000 });
  });

  it("answers Piston's close codes: 4000, 4001, 4002 (with its error message), 4003, 4004, 4005", async () => {
    const twice = await session([init('setTimeout(() => {}, 2000)'), init('1')]);
    expect([twice.code, twice.reason]).toEqual([4000, 'Already Initialized']);

    const silent = await session([]);
    expect([silent.code, silent.reason]).toEqual([4001, 'Initialization Timeout']);

    const unknown = await session([{ type: 'init', language: 'cobol', version: '*', files: [{ content: 'x' }] }]);
    expect(unknown.messages).toEqual([{ type: 'error', message: 'cobol-* runtime is unknown' }]);
    expect([unknown.code, unknown.reason]).toEqual([4002, 'Notified Error']);

    const broken = await session(['{not json']);
    expect(broken.messages[0]).toMatchObject({ type: 'error' });
    expect(broken.code).toBe(4002);

    const early = await session([{ type: 'data', stream: 'stdin', data: 'x' }]);
    expect([early.code, early.reason]).toEqual([4003, 'Not yet initialized']);

    const stdout = await session([init('setTimeout(() => {}, 2000)')], (message, ws) => {
      if (message['type'] === 'stage') ws.send(JSON.stringify({ type: 'data', stream: 'stdout', data: 'x' }));
    });
    expect([stdout.code, stdout.reason]).toEqual([4004, 'Can only write to stdin']);

    const invalid = await session([init('setTimeout(() => {}, 2000)')], (message, ws) => {
      if (message['type'] === 'stage') ws.send(JSON.stringify({ type: 'signal', signal: 'SIGNOPE' }));
    });
    expect([invalid.code, invalid.reason]).toEqual([4005, 'Invalid signal']);
  });
});
