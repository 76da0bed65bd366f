import { readFileSync } from 'node:fs';
import { allIdle, expectContained, expectHealthy, expectServing, pool, processTree, run, startHostile, type Answer, type Hostile } from './helpers';

/** Memory: on the V8 heap, off it, in WebAssembly, in strings; alone and on every slot at once. */
let h: Hostile;
/** The watchdog's allowance for the runtime itself beyond memoryMb (set here, so the bound below is known). */
const RSS_OVERHEAD_MB = 96;
/** How far a fast allocator may get past its budget between two samples of the watchdog; a memory cgroup makes it 0. */
const PEAK_MARGIN_MB = 16;

beforeAll(async () => {
  h = await startHostile({ env: { CORRAL_RSS_OVERHEAD_MB: String(RSS_OVERHEAD_MB) } });
});
afterAll(async () => {
  await h?.stop();
});

const BOMBS = {
  'a heap bomb (arrays)': 'const hog = []; for (;;) hog.push(new Array(1e5).fill(7));',
  'a Buffer.alloc loop (off the heap)': 'const hog = []; for (;;) hog.push(Buffer.alloc(8 * 1024 * 1024, 1));',
  'an ArrayBuffer loop (off the heap)': 'const hog = []; for (;;) { const b = new ArrayBuffer(8 * 1024 * 1024); new Uint8Array(b).fill(1); hog.push(b); }',
  'WebAssembly.Memory grown and touched': 'const m = new WebAssembly.Memory({ initial: 1, maximum: 65536 }); for (;;) { const from = m.buffer.byteLength; m.grow(256); new Uint8Array(m.buffer).fill(1, from); }',
};

/** Stopped within 10 s with one of `statuses`, and the service answers right after. */
/** The file-backed resident memory (RssFile) of an idle sandbox's runtime, in MiB, from the host's /proc. */
async function idleRuntimeFileMb(): Promise<number> {
  await allIdle(h);
  const slot = (await pool(h.url)).slots.find((s) => s.pid);
  let kb = 0;
  for (const pid of slot?.pid ? processTree(slot.pid) : []) {
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'latin1');
      if (!/^Name:\s*bwrap$/m.test(status)) kb = Math.max(kb, Number(/^RssFile:\s*(\d+)/m.exec(status)?.[1] ?? 0));
    } catch {
      // gone meanwhile
    }
  }
  expect(kb).toBeGreaterThan(0);
  return Math.ceil(kb / 1024);
}

async function expectStopped(a: Answer, statuses: Answer['body']['status'][]): Promise<void> {
  expectContained(a, statuses);
  expect(a.ms).toBeLessThan(10_000);
  await expectServing(h);
}

describe('memory bombs', () => {
  for (const [name, code] of Object.entries(BOMBS)) {
    it(`${name} ends with memory_limit and the service stays healthy`, async () => {
      const a = await run(h, { code, timeoutMs: 15_000 });
      await expectStopped(a, ['memory_limit']);
    });
  }

  it('new WebAssembly.Memory({ initial: 1, maximum: 65536 }) grown in a loop: memory_limit, or the RangeError at its maximum', async () => {
    const a = await run(h, { code: 'const m = new WebAssembly.Memory({ initial: 1, maximum: 65536 }); for (;;) m.grow(1024);', timeoutMs: 15_000 });
    await expectStopped(a, ['memory_limit', 'error']);
    if (a.body.status === 'error') expect(a.body.stderr).toMatch(/RangeError/);
  });

  it('a huge string (repeat, then flattened): memory_limit, or the RangeError of an invalid length', async () => {
    const a = await run(h, { code: "const s = 'ab'.repeat(2 ** 28 - 16); console.log(s.lastIndexOf('c')); let t = 'x'; for (;;) t = t.repeat(2) + t;", timeoutMs: 15_000 });
    await expectStopped(a, ['memory_limit', 'error']);
    if (a.body.status === 'error') expect(a.body.stderr).toMatch(/RangeError|Invalid string length/);
  });

  it('a heap bomb at memoryMb 32 (a sandbox booted for it) ends with memory_limit', async () => {
    const a = await run(h, { code: BOMBS['a heap bomb (arrays)'], memoryMb: 32, timeoutMs: 15_000 });
    await expectStopped(a, ['memory_limit']);
  });

  it(`peak resident memory of off-heap bombs stays within memoryMb + ${RSS_OVERHEAD_MB} MiB (+ the runtime's own file pages + ${PEAK_MARGIN_MB} MiB)`, async () => {
    // memoryBytes is the peak resident set (ru_maxrss): it also counts the runtime binary's pages
    // mapped from the page cache, which no job allocates and no memory cgroup charges to it.
    const filePagesMb = await idleRuntimeFileMb();
    const peaks: Record<string, number> = {};
    for (const memoryMb of [64, 128]) {
      for (const name of ['a Buffer.alloc loop (off the heap)', 'an ArrayBuffer loop (off the heap)', 'WebAssembly.Memory grown and touched'] as const) {
        const a = await run(h, { code: BOMBS[name], memoryMb, timeoutMs: 15_000 });
        expect(a.body.status).toBe('memory_limit');
        peaks[`${name} at ${memoryMb} MiB`] = Math.round(a.body.memoryBytes / 1024 / 1024);
      }
    }
    const bound = (key: string): number => Number(/at (\d+) MiB/.exec(key)?.[1]) + RSS_OVERHEAD_MB + filePagesMb + PEAK_MARGIN_MB;
    const over = Object.entries(peaks).filter(([key, mib]) => mib > bound(key));
    expect(Object.fromEntries(over.map(([key, mib]) => [key, `${mib} MiB > ${bound(key)} MiB`]))).toEqual({});
  });

  it('bombs on every slot at once all end with memory_limit, and the service stays healthy', async () => {
    const answers = await Promise.all(h.slots.map(() => run(h, { code: BOMBS['a Buffer.alloc loop (off the heap)'], timeoutMs: 15_000 })));
    expect(answers.map((a) => a.body.status)).toEqual(h.slots.map(() => 'memory_limit'));
    await expectServing(h);
  });

  it('the stack is healthy afterwards', async () => {
    await expectHealthy(h);
  });
});
