import { waitFor, type Stack } from '@corral/devkit';
import { corral, execute, pool, startQuietStack } from './helpers';

/** The whole stack as separate processes (netprov, worker, watchdog, router), 4 slots. */
let stack: Stack;

beforeAll(async () => {
  stack = await startQuietStack(4);
});
afterAll(async () => {
  await stack?.stop();
});

async function allIdle(): Promise<void> {
  await corral(stack.url).waitUntilIdle({ slots: 4, timeoutMs: 10_000 });
}

describe('executions end to end (real services, Redis and sandboxes)', () => {
  it('runs console.log("hello")', async () => {
    const { status, body } = await execute(stack.url, { code: 'console.log("hello")' });
    expect(status).toBe(200);
    expect(body).toMatchObject({ status: 'ok', exitCode: 0, signal: null, stdout: 'hello\n', stderr: '', truncated: false });
    expect(body.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(body.durationMs).toBeGreaterThan(0);
    expect(body.memoryBytes).toBeGreaterThan(0);
  });

  it('/v1/pool shows the host, its jail layers and runtime: as root every OS layer on, under the required policy', async () => {
    const p = await pool(stack.url);
    expect(p.hosts.map((h) => h.id)).toEqual([stack.hostId]);
    const [host] = p.hosts;
    expect(host!.runtime).toMatch(/^v24\./);
    expect(host!.jail.layers['permission model']).toMatch(/^on/);
    if (process.getuid?.() === 0) {
      expect(host!.jail).toMatchObject({ mode: 'required', off: [] });
      for (const layer of ['uid', 'namespaces', 'cgroups']) expect(host!.jail.layers[layer]).not.toMatch(/^off/);
    } else {
      expect(host!.jail.mode).toBe('auto');
      expect(host!.jail.off).toEqual(expect.arrayContaining(['uid', 'cgroups']));
    }
  });

  it('echoes stdin and passes args', async () => {
    const echo = await execute(stack.url, { code: 'process.stdin.pipe(process.stdout)', stdin: 'line one\nline two\n' });
    expect(echo.body).toMatchObject({ status: 'ok', stdout: 'line one\nline two\n' });
    const args = await execute(stack.url, { code: 'console.log(JSON.stringify(process.argv.slice(2)))', args: ['a', 'b c', '--d'] });
    expect(args.body.stdout).toBe('["a","b c","--d"]\n');
  });

  it('reports exit codes and uncaught exceptions as errors', async () => {
    expect((await execute(stack.url, { code: 'process.exit(3)' })).body).toMatchObject({ status: 'error', exitCode: 3 });
    const thrown = await execute(stack.url, { code: 'throw new Error("boom")' });
    expect(thrown.body).toMatchObject({ status: 'error', exitCode: 1 });
    expect(thrown.body.stderr).toContain('boom');
  });

  it('kills while(true) at its CPU budget (watchdog) within 2 s, then the slot serves a clean request', async () => {
    const { body, ms } = await execute(stack.url, { code: 'while(true){}', cpuMs: 500 });
    expect(body).toMatchObject({ status: 'cpu_limit', signal: 'SIGKILL', exitCode: null });
    expect(body.cpuMs).toBeGreaterThanOrEqual(500);
    expect(ms).toBeLessThan(2000);
    await allIdle();
    for (let i = 0; i < 4; i += 1) expect((await execute(stack.url, { code: 'console.log("clean")' })).body.stdout).toBe('clean\n');
  });

  it('stops a never-ending timer at the wall-time limit', async () => {
    const { body, ms } = await execute(stack.url, { code: 'setInterval(() => {}, 1000)', timeoutMs: 1000 });
    expect(body).toMatchObject({ status: 'timeout', signal: 'SIGKILL' });
    expect(body.durationMs).toBeGreaterThanOrEqual(990);
    expect(body.durationMs).toBeLessThan(1500);
    expect(ms).toBeLessThan(2000);
  });

  it('truncates an output flood and stays healthy', async () => {
    const { body } = await execute(stack.url, { code: 'for (;;) process.stdout.write("flood ".repeat(1000))' });
    expect(body).toMatchObject({ status: 'output_limit', truncated: true });
    expect(body.stdout.length).toBe(1024 * 1024);
    expect((await corral(stack.url).health({ raw: true })).status).toBe(200);
    expect((await execute(stack.url, { code: 'console.log(2)' })).body.stdout).toBe('2\n');
  });

  it('stops a heap bomb at memoryMb 64 with memory_limit', async () => {
    const { body } = await execute(stack.url, { code: 'const a = []; for (;;) a.push(new Array(1e5).fill(7))', memoryMb: 64 });
    expect(body.status).toBe('memory_limit');
  });

  it('answers 20 concurrent requests on 4 slots, each with its own result', async () => {
    await allIdle();
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => execute(stack.url, { code: `setTimeout(() => console.log(${i} * 2), 50)` })),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
    expect(answers.map((a) => a.body.stdout)).toEqual(Array.from({ length: 20 }, (_, i) => `${i * 2}\n`));
    expect(new Set(answers.map((a) => a.body.id)).size).toBe(20);
  });

  it('rejects bad requests with JSON errors and keeps serving', async () => {
    expect(await execute(stack.url, '{"code": ')).toMatchObject({ status: 400, body: { error: { code: 'invalid_json' } } });
    expect(await execute(stack.url, {})).toMatchObject({ status: 400, body: { error: { code: 'invalid_request' } } });
    expect(await execute(stack.url, { code: ['x'] })).toMatchObject({ status: 400, body: { error: { code: 'invalid_request' } } });
    expect(await execute(stack.url, { code: 'x'.repeat(5 * 1024 * 1024) })).toMatchObject({ status: 413, body: { error: { code: 'payload_too_large' } } });
    expect((await execute(stack.url, { code: 'console.log("still here")' })).body.stdout).toBe('still here\n');
  });

  it('answers clearly when a sandbox is killed from outside mid-job, and the slot comes back', async () => {
    await allIdle();
    const pending = execute(stack.url, { code: 'console.log("started"); setInterval(() => {}, 1000)', timeoutMs: 10_000 });
    const busy = await waitFor('a busy slot', async () => (await pool(stack.url)).slots.find((s) => s.state === 'busy' && s.pid));
    await new Promise((r) => setTimeout(r, 200));
    process.kill(busy.pid!, 'SIGKILL');
    const { status, body, ms } = await pending;
    expect(status).toBe(200);
    expect(body).toMatchObject({ status: 'error', signal: 'SIGKILL', exitCode: null, stdout: 'started\n' });
    expect(ms).toBeLessThan(5000);
    await allIdle();
  });
});
