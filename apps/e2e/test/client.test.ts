import { CorralClient, CorralClientError, type ExecutionRequest } from '@corral/client';
import { freePort, type Stack } from '@corral/devkit';
import { startQuietStack } from './helpers';

/**
 * @corral/client against the real stack: one slot and a short queue deadline (0.5 s), so that a
 * job of a second makes the router answer 503 `no_capacity` on demand.
 */
let stack: Stack;
let corral: CorralClient;

beforeAll(async () => {
  stack = await startQuietStack(1, { CORRAL_QUEUE_TIMEOUT_MS: '500' });
  corral = new CorralClient({ baseUrl: stack.url });
});
afterAll(async () => {
  await stack?.stop();
});
afterEach(async () => {
  await corral.waitUntilIdle({ timeoutMs: 10_000 });
});

/** Starts a job that keeps the only slot busy for `ms`; resolves once the slot is busy (the job's answer wrapped, not awaited). */
async function occupy(ms: number): Promise<{ job: Promise<unknown> }> {
  const job = corral.execute({ code: `setTimeout(() => console.log("done"), ${ms})` });
  for (let i = 0; i < 200 && (await corral.pool()).busy === 0; i += 1) await new Promise((r) => setTimeout(r, 10));
  return { job };
}

async function failure(promise: Promise<unknown>): Promise<CorralClientError> {
  const err = await promise.then(() => new Error('expected a rejection'), (e: unknown) => e);
  expect(err).toBeInstanceOf(CorralClientError);
  return err as CorralClientError;
}

describe('@corral/client against the real services', () => {
  it('health and ready', async () => {
    expect(await corral.health()).toEqual({ status: 'ok' });
    expect(await corral.ready()).toBe(true);
    expect(await corral.ready({ raw: true })).toMatchObject({ ok: true, status: 200, body: { ready: true, idle: 1, total: 1 } });
  });

  it('execute resolves with the result of the code, whatever it did', async () => {
    const ok = await corral.execute({ code: 'console.log(require("fs").readFileSync(0, "utf8") + process.argv[2])', stdin: 'in', args: ['+arg'] });
    expect(ok).toMatchObject({ status: 'ok', exitCode: 0, stdout: 'in+arg\n', stderr: '', truncated: false });
    expect(ok.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(await corral.execute({ code: 'process.exit(3)' })).toMatchObject({ status: 'error', exitCode: 3 });
  });

  it("execute throws the router error with its catalogue code, status and the router's message", async () => {
    const err = await failure(corral.execute({ code: '1', timeout: 5 } as ExecutionRequest));
    expect(err).toMatchObject({ code: 'invalid_request', httpStatus: 400, retryAfterMs: null });
    expect(err.message).toContain('unknown field "timeout"');
    const raw = await corral.execute({ code: 'x'.repeat(5 * 1024 * 1024) }, { raw: true });
    expect(raw).toMatchObject({ ok: false, status: 413, body: { error: { code: 'payload_too_large' } }, error: { code: 'payload_too_large' } });
  });

  it('pool has the one slot, consistent', async () => {
    const pool = await corral.pool();
    expect(pool).toMatchObject({ total: 1, idle: 1, busy: 0, dead: 0, queued: 0, consistent: true, problems: [] });
    expect(pool.slots).toHaveLength(1);
  });

  it('ready is false while the slot is busy; waitUntilIdle resolves once it is idle again', async () => {
    const { job } = await occupy(800);
    expect(await corral.ready()).toBe(false);
    const started = Date.now();
    const pool = await corral.waitUntilIdle({ slots: 1, timeoutMs: 10_000 });
    expect(pool.idle).toBe(1);
    expect(Date.now() - started).toBeGreaterThan(300);
    await job;
  });

  it('no_capacity comes with Retry-After; with retries the same request runs once the slot is free', async () => {
    const { job } = await occupy(1200);
    const err = await failure(corral.execute({ code: 'console.log(1)' }));
    expect(err).toMatchObject({ code: 'no_capacity', httpStatus: 503, retryAfterMs: 1000 });
    const patient = new CorralClient({ baseUrl: stack.url, retries: 3 });
    expect(await patient.execute({ code: 'console.log("after the wait")' })).toMatchObject({ status: 'ok', stdout: 'after the wait\n' });
    await job;
  });

  it('timeoutMs and signal end a call without an answer', async () => {
    expect(await failure(corral.execute({ code: 'setTimeout(() => {}, 1000)' }, { timeoutMs: 200 }))).toMatchObject({ code: 'request_timeout', httpStatus: null });
    await corral.waitUntilIdle({ timeoutMs: 10_000 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('the user left')), 200);
    const err = await failure(corral.execute({ code: 'setTimeout(() => {}, 1000)' }, { signal: controller.signal }));
    expect(err).toMatchObject({ code: 'request_aborted', cause: new Error('the user left') });
  });

  it('a router that is not there is a network_error', async () => {
    const nobody = new CorralClient({ baseUrl: `http://127.0.0.1:${await freePort()}` });
    expect(await failure(nobody.health())).toMatchObject({ code: 'network_error', httpStatus: null });
  });
});

describe('@corral/client: tests, background executions, batches, runtimes', () => {
  const sum = 'const [a, b] = require("fs").readFileSync(0, "utf8").split(" ").map(Number); console.log(a + b)';

  it('executeTests answers a verdict per test and the summary', async () => {
    const judged = await corral.executeTests({ code: sum, tests: [{ stdin: '1 2', expected: '3' }, { stdin: '2 2', expected: '5' }] });
    expect(judged.summary).toEqual({ total: 2, accepted: 1, failed: 1, skipped: 0, status: 'wrong_answer' });
    expect(judged.tests.map((t) => t.status)).toEqual(['accepted', 'wrong_answer']);
  });

  it('submit, get and wait: a background execution ends done with the result a blocking call would give', async () => {
    const accepted = await corral.submit({ code: 'console.log("later")' });
    expect(accepted).toMatchObject({ state: 'queued', id: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    expect(['queued', 'running', 'done']).toContain((await corral.get(accepted.id)).state);
    const done = await corral.wait(accepted.id, { timeoutMs: 30_000 });
    expect(done).toMatchObject({ id: accepted.id, state: 'done', attempts: 1, result: { status: 'ok', stdout: 'later\n' } });
  });

  it('cancel stops a running background execution; wait resolves with cancelled', async () => {
    const { id } = await corral.submit({ code: 'setTimeout(() => console.log("too late"), 20000)', timeoutMs: 30_000 });
    const until = Date.now() + 10_000;
    while ((await corral.get(id)).state === 'queued' && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    // The answer may come while the sandbox is being stopped; the record then ends cancelled.
    expect(['running', 'cancelled']).toContain((await corral.cancel(id)).state);
    const ended = await corral.wait(id, { timeoutMs: 10_000 });
    expect(ended.state).toBe('cancelled');
    expect(ended.result).toBeUndefined();
  });

  it('get of an id nobody made is not_found; a malformed id is invalid_id', async () => {
    expect(await failure(corral.get('00000000-0000-4000-8000-000000000000'))).toMatchObject({ code: 'not_found', httpStatus: 404 });
    expect(await failure(corral.get('nope'))).toMatchObject({ code: 'invalid_id', httpStatus: 400 });
  });

  it('submitBatch, getBatch and waitBatch: every member ends done, in the order sent', async () => {
    const accepted = await corral.submitBatch([{ code: 'console.log(1)' }, { code: sum, tests: [{ stdin: '1 1', expected: '2' }] }]);
    expect(accepted.executions).toHaveLength(2);
    expect((await corral.getBatch(accepted.id)).executions.map((e) => e.id)).toEqual(accepted.executions);
    const batch = await corral.waitBatch(accepted.id, { timeoutMs: 30_000 });
    expect(batch.states).toEqual({ queued: 0, running: 0, done: 2, cancelled: 0 });
    expect(batch.executions[0]!.result).toMatchObject({ status: 'ok', stdout: '1\n' });
    expect(batch.executions[1]!.result).toMatchObject({ summary: { status: 'accepted' } });
  });

  it('submitBatch with an invalid member is refused whole, with the member named', async () => {
    const err = await failure(corral.submitBatch([{ code: '1' }, { code: '1', bogus: true } as never]));
    expect(err).toMatchObject({ code: 'invalid_request', httpStatus: 400 });
    expect(err.message).toContain('executions[1]');
  });

  it('runtimes lists both languages, the runtime version and the package set', async () => {
    const runtimes = await corral.runtimes();
    expect(runtimes.runtime.version).toMatch(/^v?24\./);
    expect(runtimes.languages.map((l) => l.language).sort()).toEqual(['javascript', 'typescript']);
    expect(runtimes.packages.map((p) => p.name)).toContain('lodash');
  });
});

describe('@corral/client: stream', () => {
  it('yields the output events in order as the program writes them, then the result', async () => {
    const code = 'console.log("one"); setTimeout(() => { console.error("two"); setTimeout(() => console.log("three"), 300) }, 300)';
    const events = [];
    for await (const event of corral.stream({ code })) events.push(event);
    const output = events.filter((e) => e.type !== 'result');
    expect(output.map((e) => [e.type, e.data])).toEqual([
      ['stdout', 'one\n'],
      ['stderr', 'two\n'],
      ['stdout', 'three\n'],
    ]);
    expect(output.map((e) => e.seq)).toEqual([0, 1, 2]);
    expect(events.at(-1)).toMatchObject({ type: 'result', result: { status: 'ok', exitCode: 0, stdout: '', stderr: '' } });
    const withOutput = [];
    for await (const event of corral.stream({ code: 'console.log("kept")' }, { includeOutput: true })) withOutput.push(event);
    expect(withOutput.at(-1)).toMatchObject({ type: 'result', result: { stdout: 'kept\n' } });
  });

  it('a tests stream names each output event by its test and ends with the verdicts', async () => {
    const events = [];
    const tests = [{ stdin: '1', expected: '1\n' }, { stdin: '2', expected: '3\n' }];
    for await (const event of corral.stream({ code: 'console.log(require("fs").readFileSync(0, "utf8"))', tests })) events.push(event);
    const output = events.filter((e) => e.type !== 'result');
    expect(output.map((e) => e.test).sort()).toEqual([0, 1]);
    expect(events.at(-1)).toMatchObject({ type: 'result', result: { summary: { accepted: 1, failed: 1, total: 2 } } });
  });

  it('a bad request throws its catalogue code before any event', async () => {
    const err = await failure((async () => {
      for await (const event of corral.stream({ code: 1 } as never)) void event;
    })());
    expect(err).toMatchObject({ code: 'invalid_request', httpStatus: 400 });
  });

  it('an abort mid-run throws request_aborted and frees the slot: the router ends the execution', async () => {
    const controller = new AbortController();
    const seen: string[] = [];
    const err = await failure((async () => {
      for await (const event of corral.stream({ code: 'console.log("started"); setTimeout(() => console.log("never"), 60000)', timeoutMs: 60_000 }, { signal: controller.signal })) {
        if (event.type !== 'result') seen.push(event.data);
        controller.abort(new Error('the user left'));
      }
    })());
    expect(err.code).toBe('request_aborted');
    expect(seen).toEqual(['started\n']);
    // The program would hold the slot for a minute; it is idle again because the execution ended.
    expect((await corral.waitUntilIdle({ slots: 1, timeoutMs: 10_000 })).idle).toBe(1);
    expect(await corral.execute({ code: 'console.log("next")' })).toMatchObject({ status: 'ok', stdout: 'next\n' });
  });
});
