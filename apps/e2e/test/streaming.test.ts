import { readdirSync, readFileSync } from 'node:fs';
import { processTree, stillRunning, waitFor, type ProcessId, type Stack } from '@corral/devkit';
import { execute, pool, startQuietStack } from './helpers';
import { sse, type SseEvent } from './stream-helpers';

/**
 * Live output over server-sent events (`POST /v1/executions`, `Accept: text/event-stream`),
 * through the real router, worker and sandboxes: output as it is written, the blocking call's
 * caps and statuses, a client that leaves ends its execution, many streams queue as blocking
 * calls do, and a flood through a slow reader keeps router and worker memory bounded.
 */
let stack: Stack;
beforeAll(async () => {
  stack = await startQuietStack(4, { CORRAL_STREAM_HEARTBEAT_MS: '200', CORRAL_QUEUE_TIMEOUT_MS: '120000', CORRAL_MAX_QUEUE: '1000' });
}, 120_000);
afterAll(() => stack?.stop());

const output = (events: SseEvent[], stream = 'stdout'): string =>
  events
    .filter((e) => e.event === stream)
    .map((e) => (e.data as { data: string }).data)
    .join('');

function pidOf(service: string): number {
  const pid = stack.services.get(service)?.child.pid;
  if (!pid) throw new Error(`no ${service} process`);
  return pid;
}

/** Each sandbox has a trusted parent of its own: counting those counts the worker's sandboxes. */
const sandboxes = (): ProcessId[] => processTree(pidOf('worker')).filter((p) => p.comm === 'corral-spawn');

/** Resident memory of a process now (kB). */
function rssKb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
}

/** corral_executions_total{status} on the router's /metrics. */
async function counted(status: string): Promise<number> {
  const text = await (await fetch(`${stack.url}/metrics`)).text();
  return Number(new RegExp(`corral_executions_total\\{status="${status}"\\} (\\d+)`).exec(text)?.[1] ?? 0);
}

/** Open file descriptors of a process. */
const openFds = (pid: number): number => readdirSync(`/proc/${pid}/fd`).length;

/** Waits until every slot is idle again. */
const allIdle = (timeoutMs = 15_000): Promise<unknown> => waitFor('every slot idle', async () => (await pool(stack.url)).idle === 4, { timeoutMs, intervalMs: 20 });

describe('SSE live output', () => {
  it('a line every 100 ms for a second: the lines come as they are written, in order, then the result', async () => {
    const code = 'let i = 0; const t = setInterval(() => { console.log("line " + i); if (++i === 10) clearInterval(t); }, 100);';
    let resultWhenFirstLine: boolean | null = null;
    const answer = await sse(stack.url, { code }, {
      onEvent: (event) => {
        if (event.event === 'stdout' && resultWhenFirstLine === null) resultWhenFirstLine = false;
      },
    });
    expect(answer.status).toBe(200);
    expect(answer.contentType).toMatch(/^text\/event-stream/);
    const stdout = answer.events.filter((e) => e.event === 'stdout');
    expect(output(answer.events)).toBe(Array.from({ length: 10 }, (_, i) => `line ${i}\n`).join(''));
    // Numbered in order from 0, and read over many reads of the body: not one burst at the end.
    expect(stdout.map((e) => (e.data as { seq: number }).seq)).toEqual(stdout.map((_, i) => i));
    expect(new Set(stdout.map((e) => e.read)).size).toBeGreaterThanOrEqual(5);
    expect(resultWhenFirstLine).toBe(false);
    const last = answer.events.at(-1)!;
    expect(last.event).toBe('result');
    expect(last.data).toMatchObject({ status: 'ok', exitCode: 0, stdout: '', stderr: '' });
    expect(last.read).toBeGreaterThan(stdout[0]!.read);
  });

  it('stdout and stderr keep the order they were written in; ?includeOutput=true puts them in the result too', async () => {
    const code = 'const w = (s, t) => new Promise((r) => s.write(t, r)); (async () => { await w(process.stdout, "a"); await new Promise((r) => setTimeout(r, 30)); await w(process.stderr, "b"); await new Promise((r) => setTimeout(r, 30)); await w(process.stdout, "c"); })();';
    const answer = await sse(stack.url, { code }, { query: '?includeOutput=true' });
    const chunks = answer.events.filter((e) => e.event === 'stdout' || e.event === 'stderr').map((e) => `${e.event}:${(e.data as { data: string }).data}`);
    expect(chunks).toEqual(['stdout:a', 'stderr:b', 'stdout:c']);
    expect(answer.events.at(-1)).toMatchObject({ event: 'result', data: { status: 'ok', stdout: 'ac', stderr: 'b' } });
  });

  it('caps, limits and statuses are those of the blocking call', async () => {
    for (const request of [
      { code: 'for (;;) process.stdout.write("x".repeat(4096));' },
      { code: 'for (;;) {}', timeoutMs: 500 },
      { code: 'process.exit(3)' },
      { code: 'throw new Error("boom")' },
    ]) {
      const [streamed, blocking] = await Promise.all([sse(stack.url, request), execute(stack.url, request)]);
      const result = streamed.events.at(-1)!;
      expect(result.event).toBe('result');
      expect((result.data as { status: string }).status).toBe(blocking.body.status);
      expect((result.data as { exitCode: number | null }).exitCode).toBe(blocking.body.exitCode);
    }
    const flood = await sse(stack.url, { code: 'for (;;) process.stdout.write("x".repeat(4096));' });
    // Never a byte past the cap (1 MiB by default), as the blocking call keeps it.
    expect(output(flood.events).length).toBe(1024 * 1024);
    expect(flood.events.at(-1)!.data).toMatchObject({ status: 'output_limit' });
  });

  it('a bad request is the usual JSON error, before any stream', async () => {
    for (const [body, code] of [
      [{}, 'invalid_request'],
      [{ code: '1', wait: false }, 'invalid_request'],
      [{ code: '1', callbackUrl: 'http://127.0.0.1:1/' }, 'invalid_request'],
    ] as const) {
      const answer = await sse(stack.url, body);
      expect(answer.status).toBe(400);
      expect(answer.events[0]).toMatchObject({ event: 'http', data: { error: { code } } });
    }
  });

  it('with tests, each test runs live and its events carry its index; the result is the verdicts', async () => {
    const code = 'let s = ""; process.stdin.on("data", (d) => (s += d)); process.stdin.on("end", () => console.log(s.toUpperCase()));';
    const tests = [
      { stdin: 'a', expected: 'A\n' },
      { stdin: 'b', expected: 'B\n' },
      { stdin: 'c', expected: 'X\n' },
    ];
    const before = await counted('wrong_answer');
    const answer = await sse(stack.url, { code, tests });
    const byTest = (index: number): string =>
      answer.events
        .filter((e) => e.event === 'stdout' && (e.data as { test?: number }).test === index)
        .map((e) => (e.data as { data: string }).data)
        .join('');
    expect([byTest(0), byTest(1), byTest(2)]).toEqual(['A\n', 'B\n', 'C\n']);
    const result = answer.events.at(-1)!;
    expect(result.event).toBe('result');
    const verdicts = result.data as { tests: Array<{ index: number; status: string }>; summary: { total: number; accepted: number } };
    expect(verdicts.tests.map((t) => [t.index, t.status])).toEqual([
      [0, 'accepted'],
      [1, 'accepted'],
      [2, 'wrong_answer'],
    ]);
    expect(verdicts.summary).toMatchObject({ total: 3, accepted: 2 });
    // Counted once, as the submission, as the blocking call counts it.
    expect(await counted('wrong_answer')).toBe(before + 1);
  });

  it('a silent program gets heartbeat comments', async () => {
    const answer = await sse(stack.url, { code: 'setTimeout(() => console.log("late"), 1000)' });
    expect(answer.comments).toBeGreaterThanOrEqual(1);
    expect(output(answer.events)).toBe('late\n');
  });

  it('a client that leaves mid-run ends its execution: its sandbox is gone within a second, the slot idle again', async () => {
    await allIdle();
    const warm = sandboxes();
    let leftAt = 0;
    await sse(stack.url, { code: 'console.log("started"); setInterval(() => {}, 1000);', timeoutMs: 60_000 }, {
      onEvent: (event) => {
        if (event.event !== 'stdout') return;
        leftAt = Date.now();
        return 'stop';
      },
    });
    expect(leftAt).toBeGreaterThan(0);
    // One of the warm sandboxes ran the job; it, and only it, is gone, and every slot is idle, within a second.
    await waitFor('the job sandbox gone and every slot idle', async () => stillRunning(warm).length === warm.length - 1 && (await pool(stack.url)).idle === 4, {
      timeoutMs: 1000,
      intervalMs: 10,
    });
    const metrics = await (await fetch(`${stack.url}/metrics`)).text();
    expect(Number(/corral_stream_disconnects_total\{transport="sse"\} (\d+)/.exec(metrics)?.[1])).toBeGreaterThanOrEqual(1);
    expect(metrics).toMatch(/corral_streams_open\{transport="sse"\} 0/);
  });

  it('200 parallel streams on 4 slots queue as blocking calls do, and leave nothing behind', async () => {
    await allIdle();
    const warm = sandboxes().length;
    const fds = { router: openFds(pidOf('router')), worker: openFds(pidOf('worker')) };
    const code = 'console.log("a"); setTimeout(() => console.log("b"), 20);';
    const answers = await Promise.all(Array.from({ length: 200 }, () => sse(stack.url, { code }, { timeoutMs: 180_000 })));
    for (const answer of answers) {
      expect(answer.status).toBe(200);
      expect(output(answer.events)).toBe('a\nb\n');
      expect(answer.events.at(-1)).toMatchObject({ event: 'result', data: { status: 'ok' } });
    }
    await allIdle();
    const after = await pool(stack.url);
    expect(after).toMatchObject({ idle: 4, busy: 0, queued: 0 });
    const metrics = await (await fetch(`${stack.url}/metrics`)).text();
    expect(metrics).toMatch(/corral_streams_open\{transport="sse"\} 0/);
    // The same number of sandboxes as before: one warm per slot, none left over.
    await waitFor('warm sandboxes only', () => sandboxes().length === warm, { timeoutMs: 10_000 });
    // No descriptor left open by a stream: at most the kept-alive connections to the slots (a few per slot) beyond those before.
    await waitFor('descriptors back', () => openFds(pidOf('router')) <= fds.router + 16 && openFds(pidOf('worker')) <= fds.worker + 16, { timeoutMs: 10_000 });
  }, 240_000);

});

describe('SSE output flood', () => {
  let flooded: Stack;
  beforeAll(async () => {
    // A cap far above what a slow reader takes in the time allowed: only backpressure can bound memory.
    flooded = await startQuietStack(1, { CORRAL_MAX_OUTPUT_BYTES: String(256 * 1024 * 1024) });
  }, 120_000);
  afterAll(() => flooded?.stop());

  it('through a slow reader: router and worker memory stay bounded, the program is held back, and it ends with a clear status', async () => {
    const pid = (service: string): number => flooded.services.get(service)!.child.pid!;
    const before = { router: rssKb(pid('router')), worker: rssKb(pid('worker')) };
    let peak = { ...before };
    const sample = setInterval(() => {
      peak = { router: Math.max(peak.router, rssKb(pid('router'))), worker: Math.max(peak.worker, rssKb(pid('worker'))) };
    }, 20);
    let answer;
    try {
      answer = await sse(flooded.url, { code: 'const s = "y".repeat(65536); for (;;) process.stdout.write(s);', timeoutMs: 4000 }, { readDelayMs: 50, timeoutMs: 90_000 });
    } finally {
      clearInterval(sample);
    }
    const growthMb = { router: (peak.router - before.router) / 1024, worker: (peak.worker - before.worker) / 1024 };
    const streamedMb = output(answer.events).length / 1024 / 1024;
    console.log(`output flood through a slow reader: ${streamedMb.toFixed(1)} MiB streamed; RSS growth router ${growthMb.router.toFixed(1)} MiB, worker ${growthMb.worker.toFixed(1)} MiB`);
    // Held back to the reader's pace, it never reached its cap: its wall limit ended it.
    expect(answer.events.at(-1)!.data).toMatchObject({ status: 'timeout' });
    expect(streamedMb).toBeLessThan(256);
    // Unbounded, the program (GBs a second) would fill its 256 MiB cap within the 4 s, and the
    // buffers with it; bounded, growth is the garbage collector's slack (up to ~55 MiB seen on a
    // Redis Cluster run). 96 MiB keeps the two apart without failing on that slack.
    expect(growthMb.router).toBeLessThan(96);
    expect(growthMb.worker).toBeLessThan(96);
  }, 120_000);
});
