import type { PistonExecuteAnswer } from '@corral/contracts';
import { waitFor, type Stack } from '@corral/devkit';
import { piston } from 'piston-client';
import { pool, startQuietStack } from './helpers';

/**
 * Piston's v2 API on the router, driven by the npm `piston-client` (its own requests: no
 * Content-Type of JSON, `run_memory_limit: -1`, `compile_*` sent always) against the real stack.
 */
let stack: Stack;
let client: ReturnType<typeof piston>;

/** Piston's answer, or its refusal's `{ message }`. */
type PistonAnswer = PistonExecuteAnswer & { message?: string };

/** Slots claimed so far, by the router's own count (one observation per claimed slot). */
async function claims(): Promise<number> {
  const text = await (await fetch(`${stack.url}/metrics`)).text();
  return Number(/^corral_queue_wait_seconds_count (\d+)/mu.exec(text)?.[1] ?? NaN);
}

async function execute(body: unknown): Promise<{ status: number; headers: Headers; body: PistonAnswer }> {
  // As piston-client sends it: a JSON string, and no JSON Content-Type.
  const res = await fetch(`${stack.url}/api/v2/execute`, { method: 'POST', body: JSON.stringify(body) });
  return { status: res.status, headers: res.headers, body: (await res.json()) as PistonAnswer };
}

beforeAll(async () => {
  stack = await startQuietStack(2);
  client = piston({ server: stack.url });
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

afterEach(async () => {
  await waitFor('every slot idle again', async () => (await pool(stack.url)).idle === 2, { timeoutMs: 15_000 });
});

describe('Piston v2 through piston-client', () => {
  it('runtimes: javascript and typescript with their aliases, at the sandbox runtime version', async () => {
    const runtimes = (await client.runtimes()) as { language: string; version: string; aliases: string[]; runtime: string }[];
    expect(runtimes.map((r) => r.language).sort()).toEqual(['javascript', 'typescript']);
    for (const r of runtimes) {
      expect(r.version).toMatch(/^24\.\d+\.\d+$/);
      expect(r.runtime).toBe('node');
    }
    const aliases = new Map(runtimes.map((r) => [r.language, r.aliases]));
    expect(aliases.get('javascript')).toEqual(expect.arrayContaining(['js', 'node-js', 'node-javascript', 'javascript']));
    expect(aliases.get('typescript')).toEqual(expect.arrayContaining(['ts', 'node-typescript']));
  });

  it('executes JavaScript with stdin and args: Piston answer fields, stdin ended with a newline as Piston does', async () => {
    const code = 'const input = require("fs").readFileSync(0, "utf8"); console.log(JSON.stringify([process.argv.slice(2), input])); console.error("to stderr");';
    const answer = (await client.execute('javascript', code, { stdin: 'hello', args: ['a', 'b c'] })) as PistonAnswer;
    expect(answer.language).toBe('javascript');
    expect(answer.version).toMatch(/^24\./);
    expect(answer.run.stdout).toBe('[["a","b c"],"hello\\n"]\n');
    expect(answer.run.stderr).toBe('to stderr\n');
    expect(answer.run.output).toBe(answer.run.stdout + answer.run.stderr);
    expect(answer.run).toMatchObject({ code: 0, signal: null, status: null, message: null });
    expect(answer.run.cpu_time).toBeGreaterThan(0);
    expect(answer.run.wall_time).toBeGreaterThan(0);
    expect(answer.run.memory).toBeGreaterThan(1024 * 1024);
  });

  it('executes TypeScript (types stripped) with stdin, by alias and a semver range', async () => {
    const code = 'const n: number = Number(require("fs").readFileSync(0, "utf8")); console.log(n * 2);';
    const answer = (await client.execute({ language: 'ts', version: '>=22', files: [{ content: code }], stdin: '21' })) as PistonAnswer;
    expect(answer.language).toBe('typescript');
    expect(answer.run.stdout).toBe('42\n');
    expect(answer.run.code).toBe(0);
  });

  it('several files: the first utf8 file is the entry, base64 and hex files beside it', async () => {
    const { status, body } = await execute({
      language: 'js',
      version: '*',
      files: [
        { name: 'main', content: 'console.log(require("./lib.js").x, require("fs").readFileSync("data.bin", "hex"))' },
        { name: 'lib.js', content: Buffer.from('exports.x = 7;').toString('base64'), encoding: 'base64' },
        { name: 'data.bin', content: 'cafe', encoding: 'hex' },
      ],
    });
    expect(status).toBe(200);
    expect(body.run.stdout).toBe('7 cafe\n');
  });

  it('an error: RE with the exit code and isolate\'s message; a fatal signal: SG', async () => {
    const thrown = (await client.execute('javascript', 'throw new Error("boom")')) as PistonAnswer;
    expect(thrown.run).toMatchObject({ status: 'RE', code: 1, signal: null, message: 'Exited with error status 1' });
    expect(thrown.run.stderr).toContain('boom');
    const exited = (await client.execute('javascript', 'process.exitCode = 3')) as PistonAnswer;
    expect(exited.run).toMatchObject({ status: 'RE', code: 3, message: 'Exited with error status 3' });
    const aborted = (await client.execute('javascript', 'process.abort()')) as PistonAnswer;
    expect(aborted.run).toMatchObject({ status: 'SG', code: null, signal: 'SIGABRT', message: 'Caught fatal signal 6' });
  });

  it('a timeout: TO, killed', async () => {
    const answer = (await client.execute('javascript', 'while (true) {}', { runTimeout: 500 })) as PistonAnswer;
    expect(answer.run).toMatchObject({ status: 'TO', code: null, signal: 'SIGKILL' });
    expect(answer.run.message).toMatch(/^Time limit exceeded/);
  });
});

describe('Piston v2 refusals, word for word, before any slot is claimed', () => {
  it.each([
    [{ version: '*', files: [{ content: 'x' }] }, 'language is required as a string'],
    [{ language: 'js', files: [{ content: 'x' }] }, 'version is required as a string'],
    [{ language: 'js', version: '*' }, 'files is required as an array'],
    [{ language: 'js', version: '*', files: [{ name: 'a.js' }] }, 'files[0].content is required as a string'],
    [{ language: 'python', version: '3.10.0', files: [{ content: 'print(1)' }] }, 'python-3.10.0 runtime is unknown'],
    [{ language: 'js', version: '18.x', files: [{ content: 'x' }] }, 'js-18.x runtime is unknown'],
    [{ language: 'js', version: '*', files: [{ content: 'eA==', encoding: 'base64' }] }, 'files must include at least one utf8 encoded file'],
    [{ language: 'js', version: '*', files: [{ content: 'x' }], run_timeout: 600_000 }, 'run_timeout cannot exceed the configured limit of 60000'],
    [{ language: 'js', version: '*', files: [{ content: 'x' }], run_timeout: '5' }, 'If specified, run_timeout must be a number'],
    [{ language: 'js', version: '*', files: [{ content: 'x' }], run_cpu_time: -5 }, 'run_cpu_time must be non-negative'],
  ])('%j → 400 %s', async (body, message) => {
    const before = await claims();
    const { status, headers, body: answer } = await execute(body);
    expect(status).toBe(400);
    expect(answer).toEqual({ message });
    expect(headers.get('x-corral-error')).toBe('invalid_request');
    expect(await claims()).toBe(before);
  });

  it('a body that is not JSON: 400 with a message and corral\'s code', async () => {
    const res = await fetch(`${stack.url}/api/v2/execute`, { method: 'POST', body: '{"language":' });
    expect(res.status).toBe(400);
    expect(res.headers.get('x-corral-error')).toBe('invalid_json');
    expect(((await res.json()) as { message: string }).message).toMatch(/JSON/);
  });
});
