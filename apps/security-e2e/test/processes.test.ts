import { readFileSync } from 'node:fs';
import { allIdle, busySlot, canSignal, expectContained, expectHealthy, expectServing, parentOf, pool, processTree, program, run, startHostile, type Hostile } from './helpers';

/** Processes: spawning, threads, privileges, and signals to everything a sandbox might name. */
let h: Hostile;
beforeAll(async () => {
  h = await startHostile();
});
afterAll(async () => {
  await h?.stop();
});

/**
 * Signals `signals` to each target, but only after signal 0 says it cannot reach it: a sandbox
 * that can reach a host process is reported as escaped and the real signal is withheld, so that
 * a failing layer cannot take this host (or the services under test) down.
 */
function signalProgram(targets: Record<string, number>, signals: string[]): string {
  return program(`
    for (const [label, pid] of Object.entries(${JSON.stringify(targets)})) {
      let reachable = false;
      try { process.kill(pid, 0); reachable = true; } catch (e) { console.log('contained: signal 0 to ' + label + ' (' + __code(e) + ')'); }
      if (reachable) { console.log('ESCAPED: can signal ' + label + ' (pid ' + pid + '); real signals withheld'); continue; }
      for (const sig of ${JSON.stringify(signals)}) attempt(sig + ' to ' + label, () => process.kill(pid, sig));
    }
  `);
}

/** The host pids no sandbox may reach: the services, Redis, the canary, this test runner. */
function hostTargets(): Record<string, number> {
  const targets: Record<string, number> = { ...h.services, canary: h.state.canaryPid, 'the test runner': process.pid };
  if (h.redis.pid !== null) targets['redis-server'] = h.redis.pid;
  return targets;
}

describe('processes and signals', () => {
  it('child_process: exec, execSync, spawn, spawnSync, execFile, fork — all refused', async () => {
    const a = await run(h, program(`
      const cp = require('node:child_process');
      for (const [name, f] of Object.entries({ exec: () => cp.exec('id'), execSync: () => cp.execSync('id'), spawn: () => cp.spawn('/bin/sh', ['-c', 'id']),
        spawnSync: () => cp.spawnSync('/bin/sh', ['-c', 'id']), execFile: () => cp.execFile('/bin/id'), execFileSync: () => cp.execFileSync(process.execPath, ['-e', '1']),
        fork: () => cp.fork(__filename, { execArgv: [] }) })) attempt('child_process.' + name, f);
    `));
    expectContained(a, ['ok'], 7);
  });

  it('worker_threads: a Worker from eval, from a data: URL, from a file', async () => {
    const a = await run(h, program(`
      const { Worker } = require('node:worker_threads');
      attempt('new Worker(eval)', () => new Worker('require("fs").writeFileSync("/tmp/x", "x")', { eval: true }));
      attempt('new Worker(data: URL)', () => new Worker(new URL('data:text/javascript,1')));
      attempt('new Worker(__filename)', () => new Worker(__filename));
    `));
    expectContained(a, ['ok'], 3);
  });

  it('a fork bomb attempt (spawn, fork, execve in a loop) is refused at once and the slot comes back', async () => {
    const a = await run(h, {
      code: program(`
        const cp = require('node:child_process'); let refused = 0;
        for (let i = 0; i < 2000; i += 1) for (const f of [() => cp.spawn(process.execPath, ['-e', 'for(;;) require("child_process").fork(__filename)']), () => cp.fork(__filename), () => new (require('node:worker_threads').Worker)(__filename)])
          try { f(); console.log('ESCAPED: started a process'); break; } catch { refused += 1; }
        attempt('process.execve(process.execPath)', () => process.execve(process.execPath, [process.execPath, '-e', 'console.log("ESCAPED: execve")']));
        console.log('refused ' + refused);
      `),
      timeoutMs: 5000,
    });
    expectContained(a, ['ok'], 1);
    expect(a.body.stdout).toContain('refused 6000');
    await allIdle(h);
  });

  it('does not run as root on the host: non-zero uid, no capabilities, setuid(0) refused', async () => {
    const pending = run(h, program(`
      attempt('process.setuid(0)', () => process.setuid(0));
      attempt('process.setgid(0)', () => process.setgid(0));
      attempt('process.setgroups([0])', () => process.setgroups([0]));
      setTimeout(() => console.log('done'), 1000);
    `));
    const slot = await busySlot(h);
    const seen = processTree(slot.pid).flatMap((pid) => {
      try {
        const status = readFileSync(`/proc/${pid}/status`, 'latin1');
        if (/^Name:\s*bwrap$/m.test(status)) return []; // the namespace's helpers, not the runtime
        return [{ uid: /^Uid:\s*(\d+)/m.exec(status)?.[1], capEff: /^CapEff:\s*(\w+)/m.exec(status)?.[1] }];
      } catch {
        return [];
      }
    });
    const a = await pending;
    expect(seen.length).toBeGreaterThan(0);
    for (const p of seen) expect(p).toEqual({ uid: expect.not.stringMatching(/^0$/), capEff: '0000000000000000' });
    expectContained(a, ['ok'], 3);
  });

  it("process.kill(process.ppid, 'SIGKILL'): answered at once, the slot comes back", async () => {
    const a = await run(h, { code: "process.kill(process.ppid, 'SIGKILL'); setTimeout(() => console.log('still here'), 500)", timeoutMs: 3000 });
    expect(a.status).toBe(200);
    expect(a.ms).toBeLessThan(3000 + 1000);
    await allIdle(h);
    await expectServing(h);
  });

  it("process.kill(process.ppid, 'SIGSTOP'): the job ends at its wall time and the worker does not freeze", async () => {
    const a = await run(h, { code: "process.kill(process.ppid, 'SIGSTOP'); setInterval(() => {}, 1000)", timeoutMs: 1500 });
    expect(a.status).toBe(200);
    expect(a.body.status).toBe('timeout');
    expect(a.ms).toBeLessThan(1500 + 1500);
    const next = await run(h, { code: 'console.log("next")' });
    expect(next.body.stdout).toBe('next\n');
    expect(next.ms).toBeLessThan(2000);
    await allIdle(h);
  });

  it('signals (SIGSTOP, SIGKILL) to the worker, watchdog, router, Redis, the canary and the test runner', async () => {
    const a = await run(h, signalProgram(hostTargets(), ['SIGSTOP', 'SIGKILL']));
    expectContained(a, ['ok'], Object.keys(hostTargets()).length);
    await expectServing(h);
  });

  it("process.kill(1, …) reaches no host process (pid 1 is the sandbox's own init at most)", async () => {
    const targets = hostTargets();
    const a = await run(h, program(`
      const host = Object.values(${JSON.stringify(targets)}).filter((pid) => { try { process.kill(pid, 0); return true; } catch { return false; } });
      if (host.length > 0) console.log('ESCAPED: can signal host pids ' + host.join() + '; kill(1) withheld');
      else for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGKILL']) { try { process.kill(1, sig); console.log(sig + ' sent to pid 1'); } catch (e) { console.log('contained: ' + sig + ' to pid 1 (' + __code(e) + ')'); } }
    `));
    expectContained(a, ['ok', 'error']);
    await expectServing(h);
  });

  it("process.kill(-1, 'SIGKILL') ends nothing but itself: an execution on another slot finishes", async () => {
    const victim = run(h, { code: "setTimeout(() => console.log('victim done'), 2000)", timeoutMs: 8000 });
    await busySlot(h);
    const a = await run(h, program(`
      const host = Object.values(${JSON.stringify(hostTargets())}).filter((pid) => { try { process.kill(pid, 0); return true; } catch { return false; } });
      if (host.length > 0) console.log('ESCAPED: can signal host pids ' + host.join() + '; kill(-1) withheld');
      else { try { process.kill(-1, 'SIGKILL'); console.log('kill(-1) sent'); } catch (e) { console.log('contained: kill(-1) (' + __code(e) + ')'); } }
    `));
    const victimAnswer = await victim;
    expectContained(a, ['ok', 'error']);
    expect(victimAnswer.body).toMatchObject({ status: 'ok', stdout: 'victim done\n' });
    await expectServing(h);
  });

  it("kill(-1) from a long job leaves its slot's next sandbox, booting beside it, untouched", async () => {
    await allIdle(h);
    // The job waits until its slot's next sandbox has booted beside it, then signals all it can see.
    const a = run(h, program(`
      setTimeout(() => {
        const host = Object.values(${JSON.stringify(hostTargets())}).filter((pid) => { try { process.kill(pid, 0); return true; } catch { return false; } });
        if (host.length > 0) console.log('ESCAPED: can signal host pids ' + host.join() + '; kill(-1) withheld');
        else { try { process.kill(-1, 'SIGKILL'); console.log('kill(-1) sent'); } catch (e) { console.log('contained: kill(-1) (' + __code(e) + ')'); } }
      }, 1500);
    `));
    const slot = await busySlot(h);
    expectContained(await a, ['ok', 'error']);
    await allIdle(h);
    // The slot went straight back into service with the sandbox booted during the job: still alive.
    const next = (await pool(h.url)).slots.find((s) => s.id === slot.id);
    expect(next?.pid).not.toBe(slot.pid);
    expect(canSignal(next!.pid!)).toBe(true);
    await expectServing(h);
  });

  it("signals to another slot's sandbox and its launcher leave that execution untouched", async () => {
    await allIdle(h);
    const victim = run(h, { code: "setTimeout(() => console.log('victim done'), 2000)", timeoutMs: 8000 });
    const slot = await busySlot(h);
    const launcher = parentOf(slot.pid);
    const targets: Record<string, number> = { 'the other sandbox': slot.pid, ...(launcher ? { 'its launcher': launcher } : {}) };
    const a = await run(h, program(`
      for (const [label, pid] of Object.entries(${JSON.stringify(targets)})) for (const sig of ['SIGSTOP', 'SIGKILL'])
        attempt(sig + ' to ' + label, () => process.kill(pid, sig));
    `));
    const victimAnswer = await victim;
    expectContained(a, ['ok'], 2 * Object.keys(targets).length);
    expect(victimAnswer.body).toMatchObject({ status: 'ok', stdout: 'victim done\n' });
  });

  it('budget kills on other slots (timeout, cpu_limit, memory_limit, output_limit) leave a running execution untouched', async () => {
    await allIdle(h);
    const victim = run(h, { code: "setTimeout(() => console.log('victim done'), 5000)", timeoutMs: 10_000 });
    await busySlot(h);
    const kills = [
      { code: 'setInterval(() => {}, 1000)', timeoutMs: 700 },
      { code: 'while (true) {}', cpuMs: 300, timeoutMs: 3000 },
      { code: 'const hog = []; for (;;) hog.push(Buffer.alloc(8 << 20, 1));', timeoutMs: 5000 },
      { code: "for (;;) process.stdout.write('y'.repeat(65536))" },
      { code: 'setInterval(() => {}, 1000)', timeoutMs: 700 },
    ];
    const statuses = [];
    for (const request of kills) statuses.push((await run(h, request)).body.status);
    const victimAnswer = await victim;
    expect(statuses).toEqual(['timeout', 'cpu_limit', 'memory_limit', 'output_limit', 'timeout']);
    expect(victimAnswer.body).toMatchObject({ status: 'ok', stdout: 'victim done\n' });
  });

  it('the stack is healthy afterwards', async () => {
    await expectHealthy(h);
  });
});
