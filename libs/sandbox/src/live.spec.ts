import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadWorkerConfig } from '@corral/config';
import { BOOTSTRAP_PATH, resolveSandboxNode, resolveSpawnHelper } from './paths';
import { sandboxProfile } from './profile';
import { Sandbox, type LiveOutput, type SandboxOptions } from './sandbox';

let cwd: string;
beforeAll(() => {
  cwd = mkdtempSync(join(tmpdir(), 'corral-live-spec-'));
});
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

const profile = sandboxProfile(loadWorkerConfig({ CORRAL_HOST_ID: `live-spec-${process.pid}`, CORRAL_SANDBOX_JAIL: 'auto' }));
const started: Sandbox[] = [];
afterAll(async () => {
  for (const sandbox of started) sandbox.kill();
  await Promise.all(started.map((sandbox) => sandbox.exited));
  profile.release();
});

const bare = (): SandboxOptions => ({ nodePath: resolveSandboxNode(), helperPath: resolveSpawnHelper(), bootstrapPath: BOOTSTRAP_PATH, heapMb: 128, cwd });

interface Chunk {
  stream: 'stdout' | 'stderr';
  text: string;
}

/** A consumer that records each chunk; `hold` makes it refuse more until released. */
function recorder(options: { keep?: boolean; interactive?: boolean } = {}) {
  const chunks: Chunk[] = [];
  const resumes: Array<() => void> = [];
  let holding = false;
  const live: LiveOutput = {
    keep: options.keep ?? false,
    interactive: options.interactive ?? false,
    onOutput(stream, chunk, resume) {
      chunks.push({ stream, text: chunk.toString('utf8') });
      if (!holding) return true;
      resumes.push(resume);
      return false;
    },
  };
  return {
    live,
    chunks,
    text: (stream: 'stdout' | 'stderr') => chunks.filter((c) => c.stream === stream).map((c) => c.text).join(''),
    hold: () => (holding = true),
    release: () => {
      holding = false;
      for (const resume of resumes.splice(0)) resume();
    },
  };
}

describe.each([
  ['without OS layers', bare],
  ['inside every OS layer this host allows', (): SandboxOptions => profile.options({ slotIndex: 6, heapMb: 128 })],
])('live sandbox I/O %s', (_mode, optionsFor) => {
  async function boot(): Promise<Sandbox> {
    const sandbox = new Sandbox(optionsFor());
    started.push(sandbox);
    await sandbox.ready;
    return sandbox;
  }

  it('delivers output while the program runs, and keeps none of it when not asked', async () => {
    const sandbox = await boot();
    const rec = recorder();
    const code = 'let i = 0; const t = setInterval(() => { console.log("line " + i); console.error("err " + i); if (++i === 3) clearInterval(t); }, 100);';
    const running = sandbox.run({ code, args: [], stdin: '', timeoutMs: 5000, maxOutputBytes: 1 << 20, live: rec.live });
    // The first line arrives while the program still runs (it prints two more, 100 ms apart).
    await waitFor(() => rec.text('stdout').includes('line 0'));
    const seenBeforeEnd = rec.text('stdout');
    const result = await running;
    expect(seenBeforeEnd).not.toContain('line 2');
    expect(rec.text('stdout')).toBe('line 0\nline 1\nline 2\n');
    expect(rec.text('stderr')).toBe('err 0\nerr 1\nerr 2\n');
    expect(result.stdout.length).toBe(0);
    expect(result.exit.exitCode).toBe(0);
  });

  it('takes stdin while it runs, until it is ended', async () => {
    const sandbox = await boot();
    const rec = recorder({ keep: true, interactive: true });
    const code =
      'const rl = require("node:readline").createInterface({ input: process.stdin, output: process.stdout });' +
      'rl.question("name? ", (name) => rl.question("age? ", (age) => { console.log(`hi ${name}, ${age}`); rl.close(); }));';
    const running = sandbox.run({ code, args: [], stdin: '', timeoutMs: 5000, maxOutputBytes: 1 << 20, live: rec.live });
    await waitFor(() => rec.text('stdout').includes('name? '));
    sandbox.writeStdin('Ada\n');
    await waitFor(() => rec.text('stdout').includes('age? '));
    sandbox.writeStdin('36\n');
    sandbox.endStdin();
    const result = await running;
    expect(rec.text('stdout')).toBe('name? age? hi Ada, 36\n');
    expect(result.stdout.toString()).toBe('name? age? hi Ada, 36\n');
  });

  it('passes SIGINT to the program', async () => {
    const sandbox = await boot();
    const rec = recorder();
    const running = sandbox.run({ code: 'console.log("looping"); setInterval(() => {}, 1000);', args: [], stdin: '', timeoutMs: 5000, maxOutputBytes: 1 << 20, live: rec.live });
    await waitFor(() => rec.text('stdout').includes('looping'));
    sandbox.signal('SIGINT');
    const result = await running;
    expect(result.exit.signal).toBe('SIGINT');
    expect(result.killedFor).toBeNull();
  });

  it('a consumer that holds back pauses the program; past the cap it ends with output_limit', async () => {
    const sandbox = await boot();
    const rec = recorder();
    rec.hold();
    const code = 'const line = "x".repeat(1023) + "\\n"; for (;;) process.stdout.write(line);';
    const running = sandbox.run({ code, args: [], stdin: '', timeoutMs: 5000, maxOutputBytes: 256 * 1024, live: rec.live });
    await waitFor(() => rec.chunks.length > 0);
    // Held: the pipes fill and the program blocks, so what was delivered stays far under the cap.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const whileHeld = rec.text('stdout').length;
    expect(whileHeld).toBeLessThan(256 * 1024);
    rec.release();
    const result = await running;
    expect(result.killedFor).toBe('output_limit');
    expect(rec.text('stdout').length).toBe(256 * 1024);
  });
});

/** Resolves once `check` holds; rejects after 10 s so that a broken case fails instead of hanging. */
function waitFor(check: () => boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const giveUp = setTimeout(() => {
      clearInterval(poll);
      reject(new Error('the condition never held'));
    }, 10_000);
    const poll = setInterval(() => {
      if (check()) {
        clearInterval(poll);
        clearTimeout(giveUp);
        resolve();
      }
    }, 5);
  });
}
