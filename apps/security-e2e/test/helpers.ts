import { randomBytes } from 'node:crypto';
import { appendFileSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CorralClient, type ExecutionRequest, type ExecutionResult, type ExecutionStatus, type PoolAnswer, type SlotRecord } from '@corral/client';
import { randomLoopbackBase, startStack, waitFor, type Stack } from '@corral/devkit';
import { canaryAlive, suiteState, type SuiteState } from './host';

export { BOOTSTRAP, SANDBOX_RUNTIME } from './host';

/** The bootstrap as a sandbox sees it (the suite runs as root: inside bubblewrap). */
export const SANDBOX_BOOTSTRAP = '/sandbox/bootstrap.cjs';
/** The size of a sandbox's working folder with the defaults (CORRAL_SANDBOX_WORK_MB). */
export const WORK_MB = 32;
/** The repository root as the services know it (the worker's files are under it). */
export { REPO_ROOT as REPO } from '@corral/devkit';
export { tcpSink, udpSink } from './sinks';

/**
 * Helpers every hostile program can use (they run inside the sandbox, before its own code).
 * A program prints `ESCAPED: <what>` for anything it achieved that a contained sandbox must not,
 * and `contained: <what> (<code>)` for each attempt that failed; neither prints file contents.
 */
const PRELUDE = [
  "const __code = (e) => (e && (e.code || e.name)) || String(e);",
  "const __show = (v) => v === undefined ? '' : Buffer.isBuffer(v) || typeof v === 'string' ? ' (' + v.length + ' bytes)' : ' -> ' + (typeof v === 'object' ? (v && v.constructor && v.constructor.name) || 'object' : String(v).slice(0, 100));",
  "function attempt(label, fn) { try { const v = fn(); console.log('ESCAPED: ' + label + __show(v)); return v; } catch (e) { console.log('contained: ' + label + ' (' + __code(e) + ')'); } }",
  "function escapedIf(label, achieved, detail) { console.log((achieved ? 'ESCAPED: ' : 'contained: ') + label + (detail === undefined ? '' : ' (' + detail + ')')); }",
  "async function attemptAsync(label, fn, ms = 2000) { let t; try { const v = await Promise.race([fn(), new Promise((_, no) => { t = setTimeout(() => no(Object.assign(new Error('no answer'), { code: 'NO_ANSWER' })), ms); })]); console.log('ESCAPED: ' + label + __show(v)); return v; } catch (e) { console.log('contained: ' + label + ' (' + __code(e) + ')'); } finally { clearTimeout(t); } }",
  "function tcp(label, port, host, ms = 1500) { return new Promise((resolve) => { const s = require('node:net').connect({ port, host }); const done = (line, ok) => { clearTimeout(t); s.destroy(); console.log(line); resolve(ok); }; const t = setTimeout(() => done('contained: ' + label + ' (NO_ANSWER)', false), ms); s.on('connect', () => done('ESCAPED: CONNECTED to ' + label, true)); s.on('error', (e) => done('contained: ' + label + ' (' + e.code + ')', false)); }); }",
].join('\n');

/** A hostile program: the prelude, then `body`. Values reach it as literals (JSON.stringify). */
export function program(body: string): string {
  return `${PRELUDE}\n${body}`;
}

export interface Hostile {
  stack: Stack;
  url: string;
  /** The suite's client of the router. */
  client: CorralClient;
  routerPort: number;
  workerPort: number;
  redis: { port: number; password: string; pid: number | null };
  slots: SlotRecord[];
  /** The services' pids when the stack was ready: no hostile program may change them. */
  services: Record<'worker' | 'watchdog' | 'router', number>;
  /** The worker's sandbox folders on the host (corral-sandbox-*): they must stay empty. */
  sandboxDirs: string[];
  state: SuiteState;
  stop(): Promise<void>;
}

function sandboxDirsNow(): string[] {
  return readdirSync(tmpdir())
    .filter((name) => name.startsWith('corral-sandbox-'))
    .map((name) => join(tmpdir(), name));
}

/** The redis-server listening on `port` (it names itself "redis-server 127.0.0.1:<port>"). */
function redisPid(port: number): number | null {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'latin1');
      if (cmdline.startsWith('redis-server') && cmdline.includes(`:${port}`)) return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  return null;
}

/** The whole stack as separate processes, LOG_LEVEL warn, logs ignored. */
export async function startHostile(options: { slots?: number; env?: Record<string, string> } = {}): Promise<Hostile> {
  const state = suiteState();
  const dirsBefore = new Set(sandboxDirsNow());
  const stack = await startStack({
    slots: options.slots ?? 4,
    // A host id of its own: stacks that share one (and so one cgroup tree) can sweep each other's sandboxes.
    hostId: `sec-${randomBytes(4).toString('hex')}`,
    loopbackBase: randomLoopbackBase(),
    output: 'ignore',
    env: { LOG_LEVEL: 'warn', ...options.env },
  });
  const redisUrl = new URL(stack.redisUrl);
  const pid = (name: string): number => stack.services.get(name)?.child.pid ?? -1;
  const client = corral(stack.url);
  return {
    stack,
    url: stack.url,
    client,
    routerPort: Number(new URL(stack.url).port),
    workerPort: Number(stack.env['CORRAL_WORKER_PORT']),
    redis: { port: Number(redisUrl.port), password: decodeURIComponent(redisUrl.password), pid: redisPid(Number(redisUrl.port)) },
    slots: (await client.pool()).slots,
    services: { worker: pid('worker'), watchdog: pid('watchdog'), router: pid('router') },
    sandboxDirs: sandboxDirsNow().filter((dir) => !dirsBefore.has(dir)),
    state,
    stop: () => stack.stop(),
  };
}

const clients = new Map<string, CorralClient>();

/** The suite's client of the router at `url`: one per router, as an application would hold it. */
export function corral(url: string): CorralClient {
  let client = clients.get(url);
  if (!client) clients.set(url, (client = new CorralClient({ baseUrl: url })));
  return client;
}

export function pool(url: string): Promise<PoolAnswer> {
  return corral(url).pool();
}

export interface Answer {
  status: number;
  body: ExecutionResult & { error?: { code: string; message: string } };
  ms: number;
}

/** The secrets of this run and stack that no output may ever hold. */
function secretsOf(h: Hostile): Record<string, string> {
  return { 'the Redis password': h.redis.password, 'the canary secret file': h.state.secret, 'the canary SQLite secret': h.state.dbSecret };
}

/**
 * POSTs an execution and returns its answer (the client's raw answer, whatever the status: some
 * tests expect a 413); records the output for the host checks and fails at once when the output
 * holds a secret.
 */
export async function run(h: Hostile, request: Record<string, unknown> | string): Promise<Answer> {
  const started = Date.now();
  const body = (typeof request === 'string' ? { code: request } : request) as unknown as ExecutionRequest;
  const res = await h.client.execute(body, { raw: true, timeoutMs: 45_000 });
  const answer: Answer = { status: res.status, body: res.body as Answer['body'], ms: Date.now() - started };
  const output = `${answer.body.stdout ?? ''}\n${answer.body.stderr ?? ''}`;
  appendFileSync(h.state.outputLog, `${JSON.stringify({ test: expect.getState().currentTestName, output })}\n`);
  // CORRAL_SECURITY_E2E_DEBUG=1 shows what every hostile program reported (first 2 KiB).
  if (process.env['CORRAL_SECURITY_E2E_DEBUG']) {
    process.stderr.write(`\n## ${expect.getState().currentTestName}: ${answer.status} ${answer.body.status ?? answer.body.error?.code} in ${answer.ms} ms\n${output.slice(0, 2048)}\n`);
  }
  const leaked = Object.entries(secretsOf(h))
    .filter(([, secret]) => secret && output.includes(secret))
    .map(([name]) => name);
  expect({ leaked }).toEqual({ leaked: [] });
  return answer;
}

/** The lines of an answer that report an escape. */
export function escapes(a: Answer): string[] {
  return `${a.body.stdout ?? ''}\n${a.body.stderr ?? ''}`.split('\n').filter((line) => line.includes('ESCAPED'));
}

function describeAnswer(a: Answer): string {
  const { stdout = '', stderr = '', status, exitCode, signal } = a.body;
  return `status ${status} (exit ${exitCode}, signal ${signal}) in ${a.ms} ms\nstdout: ${stdout.slice(0, 1500)}\nstderr: ${stderr.slice(0, 1500)}`;
}

/**
 * The contained outcome: a 200 answer with one of `statuses`, no escape reported, and at least
 * `attempts` attempts reported as contained (so that a program that died early cannot pass).
 */
export function expectContained(a: Answer, statuses: readonly ExecutionStatus[], attempts = 0): void {
  expect(a.status).toBe(200);
  expect(escapes(a)).toEqual([]);
  if (!statuses.includes(a.body.status)) throw new Error(`expected status ${statuses.join(' or ')}, got ${describeAnswer(a)}`);
  const contained = (a.body.stdout ?? '').split('\n').filter((line) => line.startsWith('contained: ')).length;
  if (contained < attempts) throw new Error(`expected ${attempts} contained attempts, got ${contained}: ${describeAnswer(a)}`);
}

/** Every service still runs with its pid, the router answers, a hello world runs within 3 s. */
export async function expectServing(h: Hostile): Promise<void> {
  const alive = Object.fromEntries(
    [...h.stack.services].map(([name, s]) => [name, s.child.exitCode === null && s.child.signalCode === null && s.child.pid === h.services[name as 'worker']]),
  );
  expect(alive).toEqual({ worker: true, watchdog: true, router: true });
  if (h.redis.pid !== null) expect(canSignal(h.redis.pid)).toBe(true);
  expect((await h.client.health({ raw: true, timeoutMs: 3000 })).status).toBe(200);
  const hello = await run(h, { code: 'console.log("hello")' });
  expect(hello.body).toMatchObject({ status: 'ok', stdout: 'hello\n' });
  expect(hello.ms).toBeLessThan(3000);
}

export async function allIdle(h: Hostile, timeoutMs = 15_000): Promise<void> {
  await h.client.waitUntilIdle({ slots: h.slots.length, timeoutMs, intervalMs: 50 });
}

/**
 * After a file's hostile programs: every slot back idle, a hello world on each of them at once,
 * the services unchanged, the sandbox folders empty, the canary process alive.
 */
export async function expectHealthy(h: Hostile): Promise<void> {
  await allIdle(h);
  await expectServing(h);
  await allIdle(h);
  const answers = await Promise.all(h.slots.map((_, i) => run(h, { code: `console.log("hello ${i}")` })));
  expect(answers.map((a) => a.body.stdout)).toEqual(h.slots.map((_, i) => `hello ${i}\n`));
  expect(answers.every((a) => a.ms < 5000)).toBe(true);
  expect(h.sandboxDirs.flatMap((dir) => listOrEmpty(dir).map((name) => join(dir, name)))).toEqual([]);
  expect(canaryAlive(h.state.canaryPid)).toBe(true);
}

export function listOrEmpty(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

export function canSignal(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The first busy slot with a pid (a program the test started and is waiting for). */
export async function busySlot(h: Hostile): Promise<SlotRecord & { pid: number }> {
  return waitFor('a busy slot', async () => (await pool(h.url)).slots.find((s) => s.state === 'busy' && s.pid) as SlotRecord & { pid: number });
}

/** A process and all its descendants, from the host's /proc. */
export function processTree(pid: number): number[] {
  const out: number[] = [];
  const queue = [pid];
  while (queue.length > 0 && out.length < 64) {
    const next = queue.shift() as number;
    out.push(next);
    try {
      const children = readFileSync(`/proc/${next}/task/${next}/children`, 'latin1').trim();
      if (children) queue.push(...children.split(' ').map(Number));
    } catch {
      // gone
    }
  }
  return out;
}

/** The parent of a process, from the host's /proc. */
export function parentOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return null;
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
