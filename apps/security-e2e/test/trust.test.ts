import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { processTree, waitFor } from '@corral/devkit';
import { expectHealthy, expectServing, run, startHostile, type Hostile } from './helpers';

/**
 * The answer comes from the trusted side: whatever a job does inside its own realm (its exit
 * path, the runtime's modules it shares with the bootstrap, its own memory), the status, exit
 * code and timing the service reports are what the kernel saw. And what a job can pin of the
 * host's kernel memory, or of its uid's limits, stays within its budget and away from the next
 * tenant of its slot.
 */
const root = process.getuid?.() === 0;
const describeAsRoot = root ? describe : describe.skip;
if (!root) console.warn('trust.test: the per-uid and socket-memory cases need root (CI runs as root)');

let h: Hostile;
beforeAll(async () => {
  h = await startHostile({ slots: 2 });
});
afterAll(async () => {
  try {
    if (h) await expectHealthy(h);
  } finally {
    await h?.stop();
  }
});

describe('the answer is what the kernel saw', () => {
  it("the bootstrap's exit path called by the job does not end it: the answer comes when the job really ends", async () => {
    const a = await run(h, { code: "process.emit('exit', 4242); setTimeout(() => console.log('still here'), 1500);" });
    expect(a.body).toMatchObject({ status: 'ok', exitCode: 0, stdout: 'still here\n' });
    expect(a.body.durationMs).toBeGreaterThanOrEqual(1400);
  });

  it('closing stdout and stderr and emitting exit does not answer early either', async () => {
    const a = await run(h, { code: "process.stdout.destroy(); process.stderr.destroy(); process.emit('exit', 0); const t = Date.now(); while (Date.now() - t < 1000);" });
    expect(a.body).toMatchObject({ status: 'ok', exitCode: 0 });
    expect(a.body.durationMs).toBeGreaterThanOrEqual(950);
  });

  it('hooked shared modules and forged report lines on every stream do not hide an uncaught exception', async () => {
    const a = await run(h, {
      code: [
        "const fs = require('fs');",
        'const write = fs.writeSync; fs.writeSync = (...args) => write(...args);',
        "process.emit = () => false; process.reallyExit = () => {};",
        "for (const fd of [1, 2, 3, 4, 5]) { try { write(fd, 'ended 0 1 1\\nexit 0 0 1 1 1\\n\\0' + 'a'.repeat(24) + ':0\\0'); } catch {} }",
        "throw new Error('boom after forging')",
      ].join('\n'),
    });
    expect(a.body).toMatchObject({ status: 'error', exitCode: 1 });
    expect(a.body.stderr).toContain('Error: boom after forging');
  });

  it('whatever a job reads of its own memory (Buffer pool, heap snapshot) gives it nothing to answer with', async () => {
    const a = await run(h, {
      code: [
        "const v8 = require('v8');",
        'const pool = Buffer.from(Buffer.allocUnsafe(8192).buffer).toString("latin1");',
        'let snapshot = 0; try { v8.getHeapSnapshot().on("data", (d) => (snapshot += d.length)).on("end", () => { console.log("snapshot", snapshot > 0); process.exitCode = 0; setTimeout(() => { throw new Error("after the snapshot"); }, 10); }); } catch (e) { console.log("no snapshot", e.code); throw new Error("after the snapshot"); }',
        'console.log("pool", pool.length);',
      ].join('\n'),
    });
    expect(a.body).toMatchObject({ status: 'error', exitCode: 1 });
    expect(a.body.stderr).toContain('Error: after the snapshot');
  });

  it('exit codes are what the OS keeps, as for node main.js: 256 is 0, 300 is 44', async () => {
    expect((await run(h, { code: 'process.exitCode = 256' })).body).toMatchObject({ status: 'ok', exitCode: 0 });
    expect((await run(h, { code: 'process.exit(300)' })).body).toMatchObject({ status: 'error', exitCode: 44 });
    expect((await run(h, { code: 'process.exitCode = 3' })).body).toMatchObject({ status: 'error', exitCode: 3 });
  });

  it('an exit listener that loops is a job that has not ended', async () => {
    const a = await run(h, { code: "process.on('exit', () => { const t = Date.now(); while (Date.now() - t < 800); console.log('listener done'); });", timeoutMs: 5000 });
    expect(a.body).toMatchObject({ status: 'ok', exitCode: 0, stdout: 'listener done\n' });
    expect(a.body.durationMs).toBeGreaterThanOrEqual(750);
    await expectServing(h);
  });
});

describeAsRoot('less to see from inside', () => {
  it('the host’s CPU counters, memory, load, uptime, kernel build and boot id are not there; the clocks start with the job', async () => {
    // The slot sits idle first: a job must not learn for how long.
    await sleep(1500);
    const a = await run(h, {
      code: [
        "const fs = require('fs'), os = require('os');",
        "const read = (p) => { try { return fs.readFileSync(p, 'utf8'); } catch (e) { return 'unreadable ' + e.code; } };",
        'console.log(JSON.stringify({',
        "  stat: read('/proc/stat'), uptime: read('/proc/uptime'), loadavg: read('/proc/loadavg'), meminfo: read('/proc/meminfo'),",
        "  version: read('/proc/version'), bootId: read('/proc/sys/kernel/random/boot_id'),",
        '  cpus: os.cpus().length, model: os.cpus()[0] && os.cpus()[0].model, load: os.loadavg(), osUptime: os.uptime(), totalmem: os.totalmem(),',
        '  processUptime: process.uptime(), perfNow: performance.now(),',
        '}));',
      ].join('\n'),
    });
    expect(a.body.status).toBe('ok');
    const seen = JSON.parse(a.body.stdout) as Record<string, unknown>;
    // The permission model refuses the files themselves (the jail spec shows the masks alone);
    // what the runtime reads of them on the job's behalf is the masks'.
    const denied = 'unreadable ERR_ACCESS_DENIED';
    expect(seen).toMatchObject({ stat: denied, uptime: denied, loadavg: denied, meminfo: denied, version: denied, bootId: denied });
    expect(seen).toMatchObject({
      cpus: 1,
      model: 'corral sandbox',
      load: [0, 0, 0],
      osUptime: 0,
      totalmem: 262144 * 1024,
    });
    expect(seen['processUptime']).toBeLessThan(0.5);
    expect(seen['perfNow']).toBeLessThan(500);
  });
});

/** Global TCP and UDP socket memory (pages), from the host: the kernel counts it for every namespace together. */
function socketMemoryBytes(): number {
  const text = readFileSync('/proc/net/sockstat', 'latin1');
  const pages = [...text.matchAll(/^(?:TCP|UDP):.* mem (\d+)$/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
  return pages * 4096;
}

async function peakDuring<T>(sample: () => number, work: Promise<T>): Promise<{ result: T; peak: number }> {
  let peak = sample();
  let done = false;
  const sampler = (async () => {
    while (!done) {
      peak = Math.max(peak, sample());
      await sleep(50);
    }
  })();
  const result = await work;
  done = true;
  await sampler;
  return { result, peak };
}

describeAsRoot('kernel memory a job can pin stays within its budget', () => {
  /** The job's memory budget with the defaults: memoryMb 128 + CORRAL_RSS_OVERHEAD_MB 96. */
  const BUDGET = (128 + 96) * 1024 * 1024;

  it('UDP buffers on its own loopback: no UDP socket at all', async () => {
    const before = socketMemoryBytes();
    const { result: a, peak } = await peakDuring(
      socketMemoryBytes,
      run(h, {
        code: "const d = require('dgram'); let made = 0; for (let i = 0; i < 500; i++) { try { const s = d.createSocket('udp4'); s.on('error', () => {}); s.bind(0, '127.0.0.1'); made++; } catch (e) { console.log('refused', e.code); break; } } setTimeout(() => console.log('made', made), 500);",
      }),
    );
    expect(a.body.status).toBe('ok');
    expect(peak - before).toBeLessThan(BUDGET);
    expect(peak - before).toBeLessThan(8 * 1024 * 1024);
  });

  it('TCP buffers of pairs written to and never read: bounded by the cgroup, whatever the count', async () => {
    const before = socketMemoryBytes();
    const { result: a, peak } = await peakDuring(
      socketMemoryBytes,
      run(h, {
        code: [
          "const net = require('net'); const chunk = Buffer.alloc(1 << 20, 120); let pairs = 0, queued = 0;",
          "const server = net.createServer((s) => s.pause()).listen(0, '127.0.0.1', () => {",
          '  const open = () => { const c = net.connect(server.address().port, "127.0.0.1"); c.on("error", () => {}); c.on("connect", () => { pairs++; const pump = () => { while (c.write(chunk)) queued++; }; pump(); c.on("drain", pump); if (pairs < 100) open(); }); };',
          '  open();',
          '});',
          "server.on('error', (e) => console.log('server', e.code));",
          "setTimeout(() => { console.log('pairs', pairs, 'queued MiB', queued); process.exit(0); }, 3000);",
        ].join('\n'),
        timeoutMs: 10_000,
      }),
    );
    expect(a.body).toMatchObject({ status: 'ok' });
    expect(a.body.stdout).toMatch(/^pairs \d+/m);
    expect(peak - before).toBeLessThan(BUDGET);
    // cgroup v1's TCP limit for the sandbox is 16 MiB (libs/cgroup TCP_MEMORY_BYTES); room for the host's own sockets.
    expect(peak - before).toBeLessThan(48 * 1024 * 1024);
    await expectServing(h);
  });
});

describeAsRoot("the next tenant never meets a job's per-uid limits", () => {
  const extra: ChildProcess[] = [];
  afterAll(() => {
    for (const child of extra) child.kill('SIGKILL');
  });

  it('a job whose uid has every process slot used: the sandbox booting beside it has another uid, boots, and runs the next job', async () => {
    // One slot: the next job runs on the same slot, in the sandbox that booted beside this one.
    const single = await startHostile({ slots: 1 });
    try {
      const pending = run(single, { code: 'setTimeout(() => console.log("first done"), 2500)', timeoutMs: 10_000 });
      const worker = single.stack.services.get('worker')!.child.pid!;
      const uidOf = (pid: number): number => Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'latin1'))?.[1]);
      // The job's runtime, then the spare booted beside it past 50 ms: two sandboxes of the slot.
      const runtimes = await waitFor('the job and its successor', () => {
        const found = processTree(worker).filter((p) => p.comm === 'MainThread' || p.comm === 'node');
        return found.length >= 2 ? found : false;
      }, { timeoutMs: 10_000 });
      const uids = [...new Set(runtimes.map((p) => uidOf(p.pid)))];
      expect(uids).toHaveLength(2);
      // Whatever the job did, its uid is now out of processes: fill RLIMIT_NPROC (64) from the host.
      const jobUid = uidOf(runtimes[0]!.pid);
      for (let i = 0; i < 70; i += 1) {
        const child = spawn('setpriv', [`--reuid=${jobUid}`, `--regid=${jobUid}`, '--clear-groups', 'sleep', '30'], { stdio: 'ignore' });
        child.on('error', () => undefined);
        extra.push(child);
      }
      expect((await pending).body).toMatchObject({ status: 'ok', stdout: 'first done\n' });
      const next = await run(single, { code: 'console.log("second", process.getuid() !== ' + jobUid + ')' });
      expect(next.body).toMatchObject({ status: 'ok', stdout: 'second true\n' });
    } finally {
      for (const child of extra.splice(0)) child.kill('SIGKILL');
      await single.stop();
    }
  }, 60_000);
});
