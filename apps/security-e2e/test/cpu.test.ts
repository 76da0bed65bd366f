import { readFileSync } from 'node:fs';
import { expectContained, expectHealthy, expectServing, program, run, startHostile, type Hostile } from './helpers';

/** CPU: loops of every kind end at their CPU budget or wall time, answered within the budget plus MARGIN_MS. */
let h: Hostile;
beforeAll(async () => {
  h = await startHostile();
});
afterAll(async () => {
  await h?.stop();
});

/** A process's nice value, from the host's /proc (field 19 of stat). */
function niceOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
}

const CPU_MS = 1000;
const TIMEOUT_MS = 4000;
/** Sampling (100 ms), the kill, the sandbox's exit and the way back through the router, on a busy 2-core machine. */
const MARGIN_MS = 1500;

const LOOPS: Record<string, { code: string; statuses: ('cpu_limit' | 'timeout' | 'memory_limit')[] }> = {
  'sync while (true)': { code: 'while (true) {}', statuses: ['cpu_limit'] },
  // Each .then() promise is resolved with the next one: the chain also grows in memory.
  'a microtask loop (const f = () => Promise.resolve().then(f); f())': { code: 'const f = () => Promise.resolve().then(f); f();', statuses: ['cpu_limit', 'timeout', 'memory_limit'] },
  'a microtask loop that keeps nothing': { code: 'const f = () => { Promise.resolve().then(f); }; f();', statuses: ['cpu_limit', 'timeout'] },
  'a timer loop (setInterval busy 50 ms at a time)': { code: 'setInterval(() => { const e = Date.now() + 50; while (Date.now() < e); }, 0);', statuses: ['cpu_limit', 'timeout'] },
  "catastrophic regex backtracking (/(a+)+$/.test('a'.repeat(40) + '!'))": { code: "console.log(/(a+)+$/.test('a'.repeat(40) + '!'));", statuses: ['cpu_limit', 'timeout'] },
  'while (true) with SIGTERM/SIGINT/SIGHUP handlers and an exit handler that loops': {
    code: "for (const s of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(s, () => {}); process.on('exit', () => { for (;;); }); while (true) {}",
    statuses: ['cpu_limit'],
  },
};

describe('CPU hogs', () => {
  for (const [name, { code, statuses }] of Object.entries(LOOPS)) {
    it(`${name}: ${statuses.join(' or ')} within ${CPU_MS} ms of CPU + ${MARGIN_MS} ms`, async () => {
      const a = await run(h, { code, cpuMs: CPU_MS, timeoutMs: TIMEOUT_MS });
      expectContained(a, statuses);
      expect(a.ms).toBeLessThan((a.body.status === 'timeout' ? TIMEOUT_MS : CPU_MS) + MARGIN_MS);
      await expectServing(h);
    });
  }

  it(`Atomics.wait on a SharedArrayBuffer blocks without CPU: timeout within ${1500} + ${MARGIN_MS} ms`, async () => {
    const a = await run(h, { code: 'Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);', cpuMs: CPU_MS, timeoutMs: 1500 });
    expectContained(a, ['timeout']);
    expect(a.body.cpuMs).toBeLessThan(200);
    expect(a.ms).toBeLessThan(1500 + MARGIN_MS);
  });

  it(`busy loops on every slot at once all end, and the router keeps answering within 1 s`, async () => {
    const pending = Promise.all(h.slots.map(() => run(h, { code: 'while (true) {}', cpuMs: CPU_MS, timeoutMs: TIMEOUT_MS })));
    const health: number[] = [];
    for (let i = 0; i < 5; i += 1) {
      const started = Date.now();
      expect((await h.client.health({ raw: true })).status).toBe(200);
      health.push(Date.now() - started);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const answers = await pending;
    for (const a of answers) {
      expectContained(a, ['cpu_limit', 'timeout']);
      expect(a.ms).toBeLessThan(TIMEOUT_MS + MARGIN_MS);
    }
    expect(Math.max(...health)).toBeLessThan(1000);
  });

  it('a sandbox cannot raise its own priority, nor lower the services’', async () => {
    const before = Object.values(h.services).map(niceOf);
    const a = await run(h, program(`
      const os = require('node:os');
      attempt('os.setPriority(self, -20)', () => os.setPriority(0, -20));
      for (const [label, pid] of Object.entries(${JSON.stringify(h.services)})) attempt('os.setPriority(' + label + ', 19)', () => os.setPriority(pid, 19));
    `));
    expectContained(a, ['ok'], 4);
    expect(Object.values(h.services).map(niceOf)).toEqual(before);
  });

  it('the stack is healthy afterwards', async () => {
    await expectHealthy(h);
  });
});
