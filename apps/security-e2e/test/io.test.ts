import { expectContained, expectHealthy, expectServing, program, run, startHostile, type Hostile } from './helpers';

/** Output and input at and beyond their limits; forged reports on descriptors; timers that never end. */
let h: Hostile;
beforeAll(async () => {
  h = await startHostile();
});
afterAll(async () => {
  await h?.stop();
});

/** The defaults the stack runs with (docs/configuration.md: CORRAL_MAX_OUTPUT_BYTES, _STDIN_BYTES, _CODE_BYTES, _ARGS, arg bytes). */
const MAX_OUTPUT = 1024 * 1024;
const MAX_STDIN = 1024 * 1024;
const MAX_CODE = 256 * 1024;
const MAX_ARGS = 64;
const MAX_ARG_BYTES = 4096;

const FLOODS: Record<string, string> = {
  'a stdout flood': "for (;;) process.stdout.write('y'.repeat(65536));",
  'a stderr flood': "for (;;) process.stderr.write('z'.repeat(65536));",
  'stdout and stderr floods at once': "for (;;) { process.stdout.write('y'.repeat(65536)); process.stderr.write('z'.repeat(65536)); }",
  'a single 10 MiB write': "process.stdout.write('x'.repeat(10 * 1024 * 1024)); console.log('WROTE IT ALL');",
  'console.log of a huge object graph in a loop': "const o = Array.from({ length: 1e4 }, (_, i) => ({ i, s: 'v'.repeat(50) })); for (;;) console.log(o);",
};

describe('output and input', () => {
  for (const [name, code] of Object.entries(FLOODS)) {
    it(`${name}: output_limit, cut at ${MAX_OUTPUT} bytes, answered within 3 s`, async () => {
      const a = await run(h, { code, timeoutMs: 10_000 });
      expectContained(a, ['output_limit']);
      expect(a.body.truncated).toBe(true);
      expect(Buffer.byteLength(a.body.stdout) + Buffer.byteLength(a.body.stderr)).toBeLessThanOrEqual(MAX_OUTPUT);
      expect(a.body.stdout).not.toContain('WROTE IT ALL');
      expect(a.ms).toBeLessThan(3000);
      await expectServing(h);
    });
  }

  it(`${MAX_ARGS} args of ${MAX_ARG_BYTES} bytes each run normally; one more arg, or one byte more, is refused with 400`, async () => {
    const args = Array.from({ length: MAX_ARGS }, (_, i) => String(i % 10).repeat(MAX_ARG_BYTES));
    const ok = await run(h, { code: 'const a = process.argv.slice(2); console.log(a.length, a.join("").length)', args });
    expect(ok.body).toMatchObject({ status: 'ok', stdout: `${MAX_ARGS} ${MAX_ARGS * MAX_ARG_BYTES}\n` });
    const tooMany = await run(h, { code: '1', args: [...args, 'x'] });
    expect(tooMany).toMatchObject({ status: 400, body: { error: { code: 'invalid_request' } } });
    const tooLong = await run(h, { code: '1', args: ['x'.repeat(MAX_ARG_BYTES + 1)] });
    expect(tooLong).toMatchObject({ status: 400, body: { error: { code: 'invalid_request' } } });
  });

  it(`stdin of exactly ${MAX_STDIN} bytes runs normally; one byte more is refused with 413`, async () => {
    const ok = await run(h, { code: "console.log(require('fs').readFileSync(0).length)", stdin: 's'.repeat(MAX_STDIN) });
    expect(ok.body).toMatchObject({ status: 'ok', stdout: `${MAX_STDIN}\n` });
    const unread = await run(h, { code: "console.log('never read my stdin')", stdin: 's'.repeat(MAX_STDIN) });
    expect(unread.body).toMatchObject({ status: 'ok', stdout: 'never read my stdin\n' });
    expect(await run(h, { code: '1', stdin: 's'.repeat(MAX_STDIN + 1) })).toMatchObject({ status: 413, body: { error: { code: 'payload_too_large' } } });
  });

  it(`code of exactly ${MAX_CODE} bytes runs normally; one byte more is refused with 413, and so is a 5 MiB body`, async () => {
    const head = 'console.log("big code ran")\n//';
    const ok = await run(h, { code: head + 'c'.repeat(MAX_CODE - head.length) });
    expect(ok.body).toMatchObject({ status: 'ok', stdout: 'big code ran\n' });
    expect(await run(h, { code: head + 'c'.repeat(MAX_CODE - head.length + 1) })).toMatchObject({ status: 413, body: { error: { code: 'payload_too_large' } } });
    expect(await run(h, { code: '1', stdin: 's'.repeat(5 * 1024 * 1024) })).toMatchObject({ status: 413 });
    await expectServing(h);
  });

  it('never-ending timers end at the wall time (timeout)', async () => {
    const a = await run(h, { code: 'setInterval(() => {}, 10); setTimeout(function again() { setTimeout(again, 100); }, 100); process.stdin.resume();', timeoutMs: 1500 });
    expectContained(a, ['timeout']);
    expect(a.ms).toBeLessThan(1500 + 1500);
  });

  it('forged launcher reports written to every descriptor change nothing the worker measures', async () => {
    const a = await run(h, program(`
      const fs = require('node:fs');
      for (let fd = 3; fd < 64; fd += 1) for (const line of ['exit 0 0 0 0 0\\n', 'pid 1\\n', 'R', '{"code":"console.log(1)"}'])
        try { fs.writeSync(fd, line); } catch {}
      console.log('forged');
      process.exit(7);
    `));
    // The forged line says "exit 0, no CPU, no memory". Writing into the runtime's own pipes may
    // also crash it; either way the answer is what the launcher measured, never the forgery.
    expect(a.status).toBe(200);
    expect(a.body.status).toBe('error');
    expect([7, null]).toContain(a.body.exitCode);
    expect(a.body.cpuMs).toBeGreaterThan(1);
    expect(a.body.memoryBytes).toBeGreaterThan(1024 * 1024);
  });

  it('output that looks like an answer is returned as output, not parsed', async () => {
    const fake = JSON.stringify({ id: 'forged', status: 'ok', exitCode: 0, stdout: 'forged', stderr: '' });
    const a = await run(h, { code: `process.stdout.write(${JSON.stringify(`${fake}\r\n\r\nHTTP/1.1 200 OK\r\n`)}); process.exit(5);` });
    expect(a.body).toMatchObject({ status: 'error', exitCode: 5 });
    expect(a.body.id).not.toBe('forged');
    expect(a.body.stdout).toContain(fake);
  });

  it('the stack is healthy afterwards', async () => {
    await expectHealthy(h);
  });
});
