import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { waitFor, type Stack } from '@corral/devkit';
import { pool, startQuietStack } from './helpers';

/**
 * Judge0 CE 1.13's API on the router, with the requests of Judge0's own documentation
 * (docs/api/submissions/*.md) turned to JavaScript and TypeScript, against the real stack.
 */
let stack: Stack;
let receiver: { server: Server; url: string; bodies: { method: string; body: string }[] };

type Json = Record<string, unknown>;
interface Answer<T = Json> {
  status: number;
  headers: Headers;
  body: T;
}

async function call<T = Json>(method: string, path: string, body?: unknown): Promise<Answer<T>> {
  const res = await fetch(`${stack.url}${path}`, {
    method,
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as T };
}

/** Slots claimed so far, by the router's own count (one observation per claimed slot). */
async function claims(): Promise<number> {
  const text = await (await fetch(`${stack.url}/metrics`)).text();
  return Number(/^corral_queue_wait_seconds_count (\d+)/mu.exec(text)?.[1] ?? NaN);
}

/** Polls a token as Judge0's clients do, until it is neither In Queue nor Processing. */
async function finished(token: string, query = ''): Promise<Json> {
  return waitFor(
    `submission ${token} to finish`,
    async () => {
      const { body } = await call('GET', `/submissions/${token}${query}`);
      return (body['status'] as { id: number }).id > 2 ? body : null;
    },
    { timeoutMs: 30_000, intervalMs: 100 },
  );
}

const HELLO = 'const name = require("fs").readFileSync(0, "utf8").trim(); console.log(`hello, ${name}`);';
const TOKEN = /^[0-9a-f-]{36}$/u;

beforeAll(async () => {
  const bodies: { method: string; body: string }[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      bodies.push({ method: req.method ?? '', body });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  receiver = { server, url: `http://127.0.0.1:${port}/judge0`, bodies };
  stack = await startQuietStack(3, { CORRAL_WEBHOOK_ALLOW: `127.0.0.1:${port}`, CORRAL_WEBHOOK_SECRET: 'judge0-compat-secret-0123456789' });
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  await new Promise((resolve) => receiver?.server.close(resolve));
});

afterEach(async () => {
  await waitFor('every slot idle again', async () => (await pool(stack.url)).idle === 3, { timeoutMs: 15_000 });
});

describe('Judge0 information, true of this server', () => {
  it('languages: JavaScript at 63 and 93, TypeScript at 74 and 94, named with the runtime version', async () => {
    const { body } = await call<{ id: number; name: string }[]>('GET', '/languages');
    expect(body.map((l) => l.id).sort()).toEqual([63, 74, 93, 94]);
    for (const l of body) expect(l.name).toMatch(l.id === 63 || l.id === 93 ? /^JavaScript \(Node\.js 24\.\d+\.\d+\)$/u : /^TypeScript \(Node\.js 24\.\d+\.\d+, types stripped\)$/u);
    const one = await call('GET', '/languages/63');
    expect(one.body).toMatchObject({ id: 63, is_archived: false, source_file: 'script.js', compile_cmd: null, run_cmd: 'node script.js' });
    expect((await call('GET', '/languages/4')).status).toBe(404);
  });

  it('statuses, about, config_info (corral\'s limits in Judge0\'s units), system_info', async () => {
    const statuses = (await call<{ id: number; description: string }[]>('GET', '/statuses')).body;
    expect(statuses).toHaveLength(14);
    expect(statuses[2]).toEqual({ id: 3, description: 'Accepted' });
    expect(statuses[12]).toEqual({ id: 13, description: 'Internal Error' });
    expect((await call('GET', '/about')).body).toMatchObject({ version: '1.13.1' });
    const config = (await call('GET', '/config_info')).body;
    expect(config).toMatchObject({ enable_wait_result: true, enable_callbacks: true, max_wall_time_limit: 60, max_cpu_time_limit: 60, memory_limit: 128 * 1024, max_memory_limit: 1024 * 1024, enable_additional_files: false, allow_enable_network: false });
    expect(Number((await call('GET', '/system_info')).body['CPU(s)'])).toBeGreaterThan(0);
  });
});

describe('Judge0 submissions', () => {
  it('wait=true with expected_output: 201, the default fields, Accepted; another expected output: Wrong Answer', async () => {
    const { status, body } = await call('POST', '/submissions?wait=true', { source_code: HELLO, language_id: '63', stdin: 'Judge0', expected_output: 'hello, Judge0' });
    expect(status).toBe(201);
    expect(Object.keys(body).sort()).toEqual(['compile_output', 'memory', 'message', 'status', 'stderr', 'stdout', 'time', 'token']);
    expect(body).toMatchObject({ stdout: 'hello, Judge0\n', stderr: null, compile_output: null, message: null, status: { id: 3, description: 'Accepted' } });
    expect(body['token']).toMatch(TOKEN);
    expect(body['time']).toMatch(/^\d+\.\d+$/u);
    expect(Number.isInteger(body['memory']) && (body['memory'] as number) > 1000).toBe(true);
    const wrong = await call('POST', '/submissions?wait=true', { source_code: HELLO, language_id: 93, stdin: 'Judge0', expected_output: 'hello, world' });
    expect(wrong.body['status']).toEqual({ id: 4, description: 'Wrong Answer' });
    // A token answered with wait=true can be read again.
    const again = await call('GET', `/submissions/${body['token'] as string}?fields=status_id,language_id,stdin`);
    expect(again.body).toEqual({ status_id: 3, language_id: 63, stdin: 'Judge0' });
  });

  it('async: 201 with a token alone, then polled; fields chosen, fields=*, an unknown field refused', async () => {
    const { status, body } = await call('POST', '/submissions', { source_code: 'const n: number = 6; console.log(n * 7);', language_id: 74 });
    expect(status).toBe(201);
    expect(Object.keys(body)).toEqual(['token']);
    const token = body['token'] as string;
    const done = await finished(token);
    expect(done).toMatchObject({ token, stdout: '42\n', status: { id: 3, description: 'Accepted' } });
    const chosen = await call('GET', `/submissions/${token}?fields=stdout,stderr,status_id,language_id`);
    expect(chosen.body).toEqual({ stdout: '42\n', stderr: null, status_id: 3, language_id: 74 });
    const all = (await call('GET', `/submissions/${token}?fields=*`)).body;
    expect(all).toMatchObject({ source_code: 'const n: number = 6; console.log(n * 7);', language: { id: 74 }, exit_code: 0, exit_signal: null, number_of_runs: 1, wall_time_limit: '5.0' });
    expect(typeof all['finished_at']).toBe('string');
    const invalid = await call('GET', `/submissions/${token}?fields=stdout,foo,bar`);
    expect(invalid.status).toBe(400);
    expect(invalid.body).toEqual({ error: 'invalid fields: [foo, bar]' });
    expect((await call('GET', '/submissions/0c9fbb57-0000-4000-8000-000000000000')).status).toBe(404);
  });

  it('base64_encoded=true: source and stdin sent encoded, output answered encoded as Ruby encodes it', async () => {
    const encode = (text: string): string => Buffer.from(text).toString('base64');
    const { body } = await call('POST', '/submissions?base64_encoded=true&wait=true', { source_code: encode(HELLO), language_id: 63, stdin: encode('Judge0') });
    expect(body['stdout']).toBe('aGVsbG8sIEp1ZGdlMAo=\n');
    expect(body['status']).toMatchObject({ id: 3 });
  });

  it('a batch: tokens and field errors in order; read back by tokens, an unknown token null', async () => {
    const { status, body } = await call<Json[]>('POST', '/submissions/batch', {
      submissions: [
        { language_id: 63, source_code: 'console.log("hello from JavaScript")' },
        { language_id: 123456789, source_code: 'print("hello from Python")' },
        { language_id: 94, source_code: '' },
      ],
    });
    expect(status).toBe(201);
    expect(body[0]).toEqual({ token: expect.stringMatching(TOKEN) });
    expect(body[1]).toEqual({ language_id: ["language with id 123456789 doesn't exist"] });
    expect(body[2]).toEqual({ source_code: ["can't be blank"] });
    const token = body[0]?.['token'] as string;
    await finished(token);
    const read = await call<{ submissions: (Json | null)[] }>('GET', `/submissions/batch?tokens=${token},0c9fbb57-0000-4000-8000-000000000000&fields=stdout,status_id`);
    expect(read.body.submissions).toEqual([{ stdout: 'hello from JavaScript\n', status_id: 3 }, null]);
  });

  it('a time limit: Time Limit Exceeded', async () => {
    const { body } = await call('POST', '/submissions?wait=true', { source_code: 'while (true) {}', language_id: 63, cpu_time_limit: 0.5, wall_time_limit: 3 });
    expect(body['status']).toEqual({ id: 5, description: 'Time Limit Exceeded' });
    expect(body['message']).toMatch(/^Time limit exceeded/u);
  });

  it('runtime errors by exit and by signal; number_of_runs; stderr redirected', async () => {
    const thrown = await call('POST', '/submissions?wait=true&fields=status,exit_code,exit_signal,stderr,message', { source_code: 'throw new Error("boom")', language_id: 63 });
    expect(thrown.body).toMatchObject({ status: { id: 11, description: 'Runtime Error (NZEC)' }, exit_code: 1, exit_signal: null, message: 'Exited with error status 1' });
    expect(thrown.body['stderr']).toContain('boom');
    const aborted = await call('POST', '/submissions?wait=true&fields=status,exit_signal', { source_code: 'process.abort()', language_id: 63 });
    expect(aborted.body).toEqual({ status: { id: 10, description: 'Runtime Error (SIGABRT)' }, exit_signal: 6 });
    const runs = await call('POST', '/submissions?wait=true&fields=status,stdout,stderr,number_of_runs', {
      source_code: 'console.log("out"); console.error("err");',
      language_id: 63,
      number_of_runs: 2,
      redirect_stderr_to_stdout: true,
      expected_output: 'out\nerr',
    });
    expect(runs.body).toEqual({ status: { id: 3, description: 'Accepted' }, stdout: 'out\nerr\n', stderr: null, number_of_runs: 2 });
  });

  it('callback_url through the webhook allow-list, as Judge0 calls back (a PUT of the default fields, base64); one outside it refused', async () => {
    const { status, body } = await call('POST', '/submissions', { source_code: 'console.log(1)', language_id: 63, callback_url: receiver.url });
    expect(status).toBe(201);
    const delivered = await waitFor('the callback', async () => receiver.bodies.find((b) => b.body.includes(body['token'] as string)) ?? null, { timeoutMs: 30_000 });
    expect(delivered.method).toBe('PUT');
    expect(JSON.parse(delivered.body)).toEqual({ token: body['token'], stdout: 'MQo=\n', stderr: null, compile_output: null, message: null, status: { id: 3, description: 'Accepted' }, time: expect.stringMatching(/^\d+\.\d+$/u), memory: expect.any(Number) });
    const refused = await call('POST', '/submissions', { source_code: 'console.log(1)', language_id: 63, callback_url: 'http://127.0.0.1:9/elsewhere' });
    expect(refused.status).toBe(422);
    expect(Object.keys(refused.body)).toEqual(['callback_url']);
  });
});

describe('Judge0 refusals, as Judge0 shapes them, before any slot is claimed', () => {
  it.each([
    [{ source_code: HELLO }, { language_id: ["can't be blank"] }],
    [{ source_code: HELLO, language_id: 150000, stdin: 'world', expected_output: 'hello, world' }, { language_id: ["language with id 150000 doesn't exist"] }],
    [{ language_id: 63 }, { source_code: ["can't be blank"] }],
    [{ source_code: HELLO, language_id: 63, cpu_time_limit: 1, cpu_extra_time: 0.5, wall_time_limit: 100000, memory_limit: 128000 }, { wall_time_limit: ['must be less than or equal to 60.0'] }],
    [{ source_code: HELLO, language_id: 63, memory_limit: 10, number_of_runs: 0 }, { number_of_runs: ['must be greater than 0'], memory_limit: ['must be greater than or equal to 2048'] }],
    [{ source_code: HELLO, language_id: 63, cpu_time_limit: 'soon' }, { cpu_time_limit: ['is not a number'] }],
    [{ source_code: HELLO, language_id: 63, enable_network: true }, { enable_network: ['enabling network is not allowed'] }],
  ])('%j → 422 %j', async (submission, errors) => {
    const before = await claims();
    const { status, headers, body } = await call('POST', '/submissions?wait=true', submission);
    expect(status).toBe(422);
    expect(body).toEqual(errors);
    expect(headers.get('x-corral-error')).toBe('invalid_request');
    expect(await claims()).toBe(before);
  });

  it('invalid base64 with base64_encoded=true: a field error, nothing run', async () => {
    const before = await claims();
    const { status, body } = await call('POST', '/submissions?base64_encoded=true&wait=true', { source_code: 'not*base64!', language_id: 63, stdin: 'SnVkZ2Uw' });
    expect(status).toBe(422);
    expect(body).toEqual({ source_code: ['is not valid base64'] });
    expect(await claims()).toBe(before);
  });

  it('batches out of bounds: 400 with Judge0\'s words', async () => {
    expect((await call('POST', '/submissions/batch', { submissions: [] })).body).toEqual({ error: 'there should be at least one submission in a batch' });
    const tooMany = Array.from({ length: 101 }, () => ({ language_id: 63, source_code: 'x' }));
    const refused = await call('POST', '/submissions/batch', { submissions: tooMany });
    expect(refused.status).toBe(400);
    expect(refused.body).toEqual({ error: 'number of submissions in a batch should be less than or equal to 100' });
  });
});
