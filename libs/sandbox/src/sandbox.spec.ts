import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadWorkerConfig } from '@corral/config';
import { BOOTSTRAP_PATH, resolveSandboxNode, resolveSpawnHelper } from './paths';
import { sandboxProfile } from './profile';
import { Sandbox, type RunRequest, type SandboxOptions } from './sandbox';

let cwd: string;
beforeAll(() => {
  cwd = mkdtempSync(join(tmpdir(), 'corral-sandbox-spec-'));
});
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

/**
 * Every behaviour holds with and without the OS layers: as run by a laptop user (none), and with
 * every layer this host allows (as root: bubblewrap, a uid of its own, a cgroup), booted from
 * the worker's own profile with its default configuration.
 */
const profile = sandboxProfile(loadWorkerConfig({ CORRAL_HOST_ID: `spec-${process.pid}`, CORRAL_SANDBOX_JAIL: 'auto' }));
/** Every sandbox a test started: each must be gone (its launcher removes its cgroup) before the host's cgroup folders go. */
const started: Sandbox[] = [];
afterAll(async () => {
  for (const sandbox of started) sandbox.kill();
  await Promise.all(started.map((sandbox) => sandbox.exited));
  profile.release();
});

function track(options: ConstructorParameters<typeof Sandbox>[0]): Sandbox {
  const sandbox = new Sandbox(options);
  started.push(sandbox);
  return sandbox;
}

const bare = (heapMb: number): SandboxOptions => ({ nodePath: resolveSandboxNode(), helperPath: resolveSpawnHelper(), bootstrapPath: BOOTSTRAP_PATH, heapMb, cwd });

describe.each([
  ['without OS layers', bare],
  ['inside every OS layer this host allows', (heapMb: number): SandboxOptions => profile.options({ slotIndex: 7, heapMb })],
])('Sandbox %s', (_mode, optionsFor) => {
function boot(heapMb = 128): Sandbox {
  return track(optionsFor(heapMb));
}

async function run(code: string, extra: Partial<RunRequest> = {}, heapMb?: number) {
  const sandbox = boot(heapMb);
  await sandbox.ready;
  const result = await sandbox.run({ code, args: [], stdin: '', timeoutMs: 5000, maxOutputBytes: 1 << 20, ...extra });
  return { ...result, stdout: result.stdout.toString(), stderr: result.stderr.toString() };
}

  it('boots ahead of its job and runs it as node main.js would', async () => {
    const r = await run('console.log("hello", require.main === module, __filename.endsWith("/main.js"), process.argv.slice(2))', {
      args: ['a', 'b c'],
    });
    expect(r.stdout).toBe("hello true true [ 'a', 'b c' ]\n");
    expect(r.exit).toMatchObject({ exitCode: 0, signal: null });
    expect(r.killedFor).toBeNull();
    expect(r.memoryBytes).toBeGreaterThan(10 * 1024 * 1024);
  });

  it('gives the code its stdin, through process.stdin and fd 0', async () => {
    expect((await run('console.log(require("fs").readFileSync(0, "utf8").toUpperCase())', { stdin: 'abc' })).stdout).toBe('ABC\n');
    const r = await run('let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(s.length))', { stdin: 'x'.repeat(300_000) });
    expect(r.stdout).toBe('300000\n');
  });

  it("reports node's own exit code for exits, throws and rejections", async () => {
    expect((await run('process.exit(3)')).exit.exitCode).toBe(3);
    const thrown = await run('throw new Error("boom")');
    expect(thrown.exit.exitCode).toBe(1);
    expect(thrown.stderr).toContain('Error: boom');
    expect(thrown.stderr).toContain('main.js:1');
    expect((await run('Promise.reject(new Error("nope"))')).exit.exitCode).toBe(1);
  });

  it('holds an empty environment and denies fs writes, child processes and worker threads', async () => {
    const r = await run(`
      const out = [Object.keys(process.env).length];
      for (const f of [
        () => require("fs").writeFileSync("/tmp/corral-should-not-exist", "x"),
        () => require("fs").readFileSync("/etc/hostname"),
        () => require("child_process").execSync("id"),
        () => new (require("worker_threads").Worker)("1", { eval: true }),
      ]) { try { f(); out.push("allowed"); } catch (e) { out.push(e.code); } }
      console.log(out.join(","));
    `);
    expect(r.stdout).toBe('0,ERR_ACCESS_DENIED,ERR_ACCESS_DENIED,ERR_ACCESS_DENIED,ERR_ACCESS_DENIED\n');
  });

  (process.getuid?.() === 0 ? it : it.skip)('boots behind running jobs (nice 10), then waits for its job at full priority (needs root)', async () => {
    const sandbox = track({ ...optionsFor(128), bootNice: 10 });
    await sandbox.ready;
    const stat = (path: string): string[] => readFileSync(`/proc/${path}/stat`, 'latin1').split(') ')[1]!.split(' ');
    // Its launcher started it at nice 10 (corral-spawn's own spec shows that --nice takes)…
    const launcher = Number(stat(String(sandbox.groupLeader))[1]);
    expect(readFileSync(`/proc/${launcher}/cmdline`, 'latin1').split('\0')).toEqual(expect.arrayContaining(['--nice', '10']));
    // …and once booted, every thread of the runtime is back at 0: the job starts without waiting for that.
    for (const tid of readdirSync(`/proc/${sandbox.pid!}/task`)) expect(Number(stat(`${sandbox.pid!}/task/${tid}`)[16])).toBe(0);
    const r = await sandbox.run({ code: 'console.log(require("os").getPriority())', args: [], stdin: '', timeoutMs: 5000, maxOutputBytes: 1000 });
    expect(r.stdout.toString()).toBe('0\n');
  });

  it('kills at the wall-time limit', async () => {
    const r = await run('setInterval(() => {}, 1000)', { timeoutMs: 300 });
    expect(r.killedFor).toBe('timeout');
    expect(r.exit.signal).toBe('SIGKILL');
    expect(r.durationMs).toBeGreaterThanOrEqual(290);
    expect(r.durationMs).toBeLessThan(2000);
  });

  it('caps output and kills a flood', async () => {
    const r = await run('for(;;) process.stdout.write("y".repeat(1000))', { maxOutputBytes: 1_000_000 });
    expect(r.killedFor).toBe('output_limit');
    expect(r.truncated).toBe(true);
    expect(r.stdout.length).toBe(1_000_000);
  });

  it('measures the job CPU time, not the boot', async () => {
    const idle = await run('1');
    expect(idle.cpuMs).toBeLessThan(20);
    // 200 ms of CPU (not of wall time, which a loaded machine would stretch)
    const busy = await run('const t = process.cpuUsage(); for (;;) { for (let i = 0; i < 1e6; i += 1); if (process.cpuUsage(t).user >= 200_000) break; }');
    expect(busy.cpuMs).toBeGreaterThan(190);
    expect(busy.cpuMs).toBeLessThan(400);
  });

  it('dies of its heap limit with the runtime saying so', async () => {
    const r = await run('const a = []; for (;;) a.push(new Array(1e5).fill(1))', { timeoutMs: 10_000 }, 32);
    expect(r.exit).toMatchObject({ exitCode: null, signal: "SIGABRT" });
    expect(r.stderr).toMatch(/heap out of memory|Reached heap limit/);
  });

  it('reports a signal from outside', async () => {
    const sandbox = boot();
    await sandbox.ready;
    const pending = sandbox.run({ code: 'setInterval(()=>{},1000)', args: [], stdin: '', timeoutMs: 5000, maxOutputBytes: 100 });
    await new Promise((r) => setTimeout(r, 100));
    process.kill(sandbox.pid!, 'SIGKILL');
    const r = await pending;
    expect(r.exit.signal).toBe('SIGKILL');
    expect(r.killedFor).toBeNull();
  });

  it('rejects ready with the reason when the runtime cannot start', async () => {
    const sandbox = track({ ...optionsFor(64), nodePath: '/nonexistent/node' });
    await expect(sandbox.ready).rejects.toThrow(/ended before it was ready.*(exec: No such file|nonexistent)/s);
  });

  it('can be killed while it waits, and runs one job only', async () => {
    const sandbox = boot();
    await sandbox.ready;
    sandbox.kill();
    const exit = await sandbox.exited;
    expect(exit.signal).toBe('SIGKILL');
    await expect(sandbox.run({ code: '1', args: [], stdin: '', timeoutMs: 100, maxOutputBytes: 1 })).resolves.toMatchObject({});
    await expect(sandbox.run({ code: '1', args: [], stdin: '', timeoutMs: 100, maxOutputBytes: 1 })).rejects.toThrow(/exactly one job/);
  });
});
