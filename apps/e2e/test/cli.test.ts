import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { CorralClient } from '@corral/client';
import { freePort, randomLoopbackBase, startStack, type Stack } from '@corral/devkit';

/**
 * The `corral` command as a user runs it: the built CLI (apps/cli/bin/corral.js) as a process,
 * against the real stack, with API keys on (the key comes from CORRAL_API_KEY or --key).
 */
const KEY = 'cli-test-key-0123456789';
const BIN = join(__dirname, '..', '..', 'cli', 'bin', 'corral.js');
let stack: Stack;
let dir: string;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `corral args…` to its end (killed after 60 s, so that a test never hangs). */
function corral(args: string[], options: { env?: Record<string, string | undefined>; input?: string } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, CORRAL_URL: stack.url, CORRAL_API_KEY: KEY, NO_COLOR: undefined, FORCE_COLOR: undefined, ...options.env };
    const child = spawn(process.execPath, [BIN, ...args], { cwd: dir, env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
    });
    child.stdin.end(options.input ?? '');
  });
}

function file(name: string, content: string): string {
  const path = join(dir, name);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content);
  return name;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'corral-cli-'));
  stack = await startStack({ slots: 2, loopbackBase: randomLoopbackBase(), output: 'ignore', apiKey: KEY, env: { LOG_LEVEL: 'warn' } });
  file('hello.js', 'console.log("hello from corral")');
  file('sum.js', 'const [a, b] = require("fs").readFileSync(0, "utf8").split(" ").map(Number); console.log(a + b)');
  for (const [n, input, output] of [['1', '1 2', '3'], ['2', '2 2', '5'], ['3', '10 5', '15']]) {
    file(`cases/${n}.in`, `${input}\n`);
    file(`cases/${n}.out`, `${output}\n`);
  }
  file('good/1.in', '1 1\n');
  file('good/1.out', '2\n');
});
afterAll(async () => {
  await stack?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});
afterEach(async () => {
  await new CorralClient({ baseUrl: stack.url, apiKey: KEY }).waitUntilIdle({ timeoutMs: 15_000 });
});

describe('corral run', () => {
  it('prints the output and exits 0; nothing more on stderr in a pipe', async () => {
    expect(await corral(['run', 'hello.js'])).toEqual({ code: 0, stdout: 'hello from corral\n', stderr: '' });
  });

  it("exits with the program's own exit code and says how it ended on stderr", async () => {
    const run = await corral(['run', file('seven.js', 'console.error("bad"); process.exit(7)')]);
    expect(run.code).toBe(7);
    expect(run.stderr).toContain('bad\n');
    expect(run.stderr).toMatch(/corral: error \(exit 7\)/);
  });

  it('stdin from a file or from its own stdin (-), args with --arg', async () => {
    expect(await corral(['run', 'sum.js', '--stdin', file('in.txt', '20 22')])).toMatchObject({ code: 0, stdout: '42\n' });
    expect(await corral(['run', 'sum.js', '--stdin', '-'], { input: '1 1' })).toMatchObject({ code: 0, stdout: '2\n' });
    expect(await corral(['run', file('argv.js', 'console.log(process.argv.slice(2).join("|"))'), '--arg', 'a b', '--arg', 'c'])).toMatchObject({ stdout: 'a b|c\n' });
  });

  it('TypeScript by extension or --ts, and several files with the first as the entry', async () => {
    expect(await corral(['run', file('typed.ts', 'const n: number = 41;\nconsole.log(n + 1);')])).toMatchObject({ code: 0, stdout: '42\n' });
    expect(await corral(['run', '--ts', file('typed-as-js.js', 'const s: string = "ts";\nconsole.log(s);')])).toMatchObject({ code: 0, stdout: 'ts\n' });
    const main = file('multi/main.js', 'console.log(require("./lib/twice.js").twice(21))');
    const lib = file('multi/lib/twice.js', 'exports.twice = (n) => n * 2');
    expect(await corral(['run', main, lib])).toMatchObject({ code: 0, stdout: '42\n' });
  });

  it('--json prints the whole result and keeps the exit code', async () => {
    const run = await corral(['run', '--json', file('three.js', 'console.log("x"); process.exitCode = 3')]);
    expect(run.code).toBe(3);
    expect(JSON.parse(run.stdout)).toMatchObject({ status: 'error', exitCode: 3, stdout: 'x\n', id: expect.any(String), durationMs: expect.any(Number) });
  });

  it('124 past the time limit, 125 past the memory limit, 128+N for a signal', async () => {
    const slow = await corral(['run', '--timeout', '300', file('slow.js', 'setTimeout(() => {}, 20000)')]);
    expect(slow.code).toBe(124);
    expect(slow.stderr).toContain('timeout');
    const big = await corral(['run', '--memory', '32', file('big.js', 'const a = []; for (;;) a.push(new Array(1e6).fill(1))')]);
    expect(big.code).toBe(125);
    expect(big.stderr).toContain('memory_limit');
    expect((await corral(['run', file('abort.js', 'process.abort()')])).code).toBe(128 + 6);
  });

  it('3 when the service does not run it: no router there, no key, a refused request', async () => {
    const nobody = await corral(['run', 'hello.js', '--url', `http://127.0.0.1:${await freePort()}`]);
    expect(nobody.code).toBe(3);
    expect(nobody.stderr).toContain('network_error');
    const anonymous = await corral(['run', 'hello.js'], { env: { CORRAL_API_KEY: undefined } });
    expect(anonymous.code).toBe(3);
    expect(anonymous.stderr).toContain('unauthorized');
    expect(await corral(['run', 'hello.js', '--key', KEY], { env: { CORRAL_API_KEY: undefined } })).toMatchObject({ code: 0 });
    expect((await corral(['run', '--timeout', '99999999', 'hello.js'])).stderr).toContain('invalid_request');
  });
});

describe('corral run: live output', () => {
  /** Starts `corral run FILE`; `seen` gets each read of its stdout, then `exit`, in the order they came. */
  function live(name: string, code: string) {
    const env: NodeJS.ProcessEnv = { ...process.env, CORRAL_URL: stack.url, CORRAL_API_KEY: KEY };
    const child = spawn(process.execPath, [BIN, 'run', file(name, code), '--timeout', '30000'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const seen: string[] = [];
    child.stderr.resume();
    child.stdout.on('data', (b: Buffer) => seen.push(b.toString()));
    const exited = new Promise<number | null>((resolve) =>
      child.on('close', (status) => {
        clearTimeout(killer);
        seen.push('exit');
        resolve(status);
      }),
    );
    return { child, seen, exited };
  }

  it('writes the first line as the program prints it, the second a second later, then exits with its code', async () => {
    const run = live('slow.js', 'console.log("first"); setTimeout(() => { console.log("second"); process.exit(4) }, 1000)');
    expect(await run.exited).toBe(4);
    // Two reads: the first line came on its own, before the program printed the second (the blocking call would write both at once at the end).
    expect(run.seen).toEqual(['first\n', 'second\n', 'exit']);
  });

  it('Ctrl-C once the first line is out: 130, the rest never comes, and the slot is free again', async () => {
    const run = live('slower.js', 'console.log("first"); setTimeout(() => console.log("second"), 15000)');
    run.child.stdout.once('data', () => run.child.kill('SIGINT'));
    expect(await run.exited).toBe(130);
    expect(run.seen).toEqual(['first\n', 'exit']);
    expect((await new CorralClient({ baseUrl: stack.url, apiKey: KEY }).waitUntilIdle({ timeoutMs: 10_000 })).idle).toBe(2);
  });
});

describe('Ctrl-C', () => {
  it('exits 130 and the router stops the program', async () => {
    const client = new CorralClient({ baseUrl: stack.url, apiKey: KEY });
    const env: NodeJS.ProcessEnv = { ...process.env, CORRAL_URL: stack.url, CORRAL_API_KEY: KEY };
    const child = spawn(process.execPath, [BIN, 'run', file('forever.js', 'setInterval(() => {}, 1000)'), '--timeout', '30000'], { cwd: dir, env, stdio: 'ignore' });
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    try {
      for (let i = 0; i < 500 && (await client.pool()).busy === 0; i += 1) await new Promise((r) => setTimeout(r, 20));
      expect((await client.pool()).busy).toBe(1);
      child.kill('SIGINT');
      expect(await exited).toBe(130);
      // The abandoned call stops the job: the slot is idle again long before the program's 30 s.
      expect((await client.waitUntilIdle({ timeoutMs: 10_000 })).idle).toBe(2);
    } finally {
      clearTimeout(killer);
    }
  });
});

describe('corral test', () => {
  it('a cases folder with one failing case: exit 1, and the table names it', async () => {
    const run = await corral(['test', 'sum.js', '--cases', 'cases']);
    expect(run.code).toBe(1);
    const rows = run.stdout.split('\n');
    expect(rows[0]).toMatch(/^case\s+verdict\s+time\s+cpu\s+memory$/);
    expect(rows[1]).toMatch(/^1\s+accepted\s+[\d.]+ ms/);
    expect(rows[2]).toMatch(/^2\s+wrong_answer\s+[\d.]+ ms/);
    expect(rows[3]).toMatch(/^3\s+accepted/);
    expect(run.stdout).toContain('2/3 passed; failed: 2');
  });

  it('on a terminal: a progress bar on stderr while cases run, and colours', () => {
    // script(1) gives the command a pseudo-terminal, as a user's shell would; -e keeps its exit code.
    const command = `'${process.execPath}' '${BIN}' test sum.js --cases cases`;
    const run = (() => {
      try {
        return { code: 0, out: execFileSync('script', ['-qec', command, '/dev/null'], { cwd: dir, encoding: 'utf8', timeout: 60_000, env: { ...process.env, CORRAL_URL: stack.url, CORRAL_API_KEY: KEY, NO_COLOR: '', TERM: 'xterm' } }) };
      } catch (err) {
        const e = err as { status: number; stdout: string };
        return { code: e.status, out: e.stdout };
      }
    })();
    expect(run.code).toBe(1);
    expect(run.out).toMatch(/cases \S+ 0\/3/);
    expect(run.out).toMatch(/cases \S+ 3\/3/);
    expect(run.out).toContain('\u001b[32maccepted');
    expect(run.out).toContain('\u001b[31mwrong_answer');
  });

  it('every case passing: exit 0', async () => {
    const run = await corral(['test', 'sum.js', '--cases', 'good']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('1/1 passed');
  });

  it('--json: the summary and each case by name', async () => {
    const run = await corral(['test', 'sum.js', '--cases', 'cases', '--json']);
    expect(run.code).toBe(1);
    const answer = JSON.parse(run.stdout) as { summary: unknown; tests: { case: string; status: string }[] };
    expect(answer.summary).toEqual({ total: 3, accepted: 2, failed: 1, skipped: 0, status: 'wrong_answer' });
    expect(answer.tests.map((t) => [t.case, t.status])).toEqual([
      ['1', 'accepted'],
      ['2', 'wrong_answer'],
      ['3', 'accepted'],
    ]);
  });
});

describe('corral status', () => {
  it('shows the pool; --json is the pool answer', async () => {
    const run = await corral(['status']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`${stack.url}: 2 slots, 2 idle`);
    expect(run.stdout).toContain('consistent');
    expect(JSON.parse((await corral(['status', '--json'])).stdout)).toMatchObject({ total: 2, consistent: true });
  });

  it('colours only when asked for (FORCE_COLOR) and never with NO_COLOR', async () => {
    expect((await corral(['status'])).stdout).not.toContain('\u001b[');
    expect((await corral(['status'], { env: { FORCE_COLOR: '1' } })).stdout).toContain('\u001b[');
    expect((await corral(['status'], { env: { FORCE_COLOR: '1', NO_COLOR: '1' } })).stdout).not.toContain('\u001b[');
  });
});

describe('usage', () => {
  it('bad flags exit 2 with the usage', async () => {
    for (const args of [['run', '--timeout', 'abc', 'hello.js'], ['run', '--memory', '0', 'hello.js'], ['run', '--nope', 'hello.js'], ['test', 'sum.js'], ['test', 'sum.js', '--cases', 'cases', '--compare', 'fuzzy'], ['frobnicate'], ['run']]) {
      const run = await corral(args);
      expect([args, run.code]).toEqual([args, 2]);
      expect(run.stderr).toMatch(/Usage: corral/);
    }
  });

  it('a --url that is not a URL exits 2, saying so', async () => {
    expect(await corral(['status', '--url', 'nope'])).toMatchObject({ code: 2, stderr: expect.stringContaining('--url must be an absolute URL') });
  });

  it('a file or cases folder that cannot be read exits 2, naming it', async () => {
    expect(await corral(['run', 'missing.js'])).toMatchObject({ code: 2, stderr: expect.stringContaining('cannot read missing.js') });
    expect(await corral(['test', 'sum.js', '--cases', 'nowhere'])).toMatchObject({ code: 2, stderr: expect.stringContaining('nowhere') });
  });

  it('--help everywhere, exit 0, with the exit codes', async () => {
    for (const args of [['--help'], ['run', '--help'], ['test', '--help'], ['status', '--help']]) {
      const run = await corral(args);
      expect([args, run.code]).toEqual([args, 0]);
      expect(run.stdout).toContain('Usage: corral');
    }
    expect((await corral(['--help'])).stdout).toContain('124 past its time limit');
    expect(await corral(['--version'])).toMatchObject({ code: 0, stdout: '0.1.0\n' });
  });
});

describe("README's quick start", () => {
  it('the corral example runs as written (npm run corral, from a folder of the checkout)', () => {
    const readme = readFileSync(join(__dirname, '../../../README.md'), 'utf8');
    const block = /<!-- quickstart-cli -->\n```sh\n([\s\S]*?)```/u.exec(readme)?.[1];
    expect(block).toContain('npm run corral');
    // npm finds the checkout's package.json from any folder inside it; the CLI reads files where npm ran.
    const where = join(__dirname, '../../../tmp');
    mkdirSync(where, { recursive: true });
    const cwd = mkdtempSync(join(where, 'readme-cli-'));
    try {
      const out = execFileSync('sh', ['-c', block as string], { cwd, encoding: 'utf8', timeout: 60_000, env: { ...process.env, CORRAL_URL: stack.url, CORRAL_API_KEY: KEY } });
      expect(out).toBe('hello from corral\n');
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });
});
