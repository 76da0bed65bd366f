import type { CorralClient } from '@corral/client';
import type { Stack } from '@corral/devkit';
import { corral, execute, startQuietStack } from './helpers';

/**
 * The working directory: the job's files, what it writes (within its size), files that come back
 * through `collect`, nothing of it for the next job on the same slot; and requests the router
 * refuses before anything runs.
 */
let stack: Stack;
let client: CorralClient;
beforeAll(async () => {
  // One slot: the next job runs where the last one did.
  stack = await startQuietStack(1, { CORRAL_MAX_COLLECT_BYTES: '4096' });
  client = corral(stack.url);
});
afterAll(async () => {
  await stack?.stop();
});

describe('the working directory', () => {
  it('gives back out/a.csv through collect; the next job on the slot sees no trace of it', async () => {
    const r = await client.execute({
      code: 'const fs = require("fs"); fs.mkdirSync("out"); fs.writeFileSync("out/a.csv", "x,y\\n1,2\\n"); fs.writeFileSync("out/b.txt", "not asked for");',
      collect: ['out/*.csv'],
    });
    expect(r.status).toBe('ok');
    expect(r.files).toEqual([{ name: 'out/a.csv', size: 8, content: Buffer.from('x,y\n1,2\n').toString('base64') }]);
    const next = await client.execute({ code: 'const fs = require("fs"); console.log(fs.readdirSync(".").join(" "), fs.existsSync("out"))' });
    expect(next).toMatchObject({ status: 'ok', stdout: 'main.js false\n' });
  });

  it('lists what does not fit in the collect cap with truncated, without its content; only regular files', async () => {
    const r = await client.execute({
      code: 'const fs = require("fs"); fs.writeFileSync("small.json", "{}"); fs.writeFileSync("big.json", "x".repeat(10000)); fs.mkdirSync("dir.json");',
      collect: ['*.json'],
    });
    expect(r.files).toEqual([
      { name: 'big.json', size: 10000, content: '', truncated: true },
      { name: 'small.json', size: 2, content: Buffer.from('{}').toString('base64') },
    ]);
  });

  it('collects binary files from a tree given in base64, and nothing when the job is killed', async () => {
    const r = await client.execute({
      files: [
        { name: 'main.js', content: 'const fs = require("fs"); fs.writeFileSync("copy.bin", fs.readFileSync("in.bin"));' },
        { name: 'in.bin', content: Buffer.from([0, 1, 2, 255]).toString('base64'), encoding: 'base64' },
      ],
      collect: ['copy.bin'],
    });
    expect(r.files).toEqual([{ name: 'copy.bin', size: 4, content: Buffer.from([0, 1, 2, 255]).toString('base64') }]);
    const killed = await client.execute({ code: 'require("fs").writeFileSync("late.txt", "x"); setInterval(() => {}, 1000)', collect: ['*.txt'], timeoutMs: 300 });
    expect(killed).toMatchObject({ status: 'timeout', files: [] });
  });
});

describe('requests refused before anything runs', () => {
  it.each([
    [{ files: [{ name: '../x.js', content: '' }] }, 400, 'invalid_request'],
    [{ files: [{ name: '/etc/x.js', content: '' }] }, 400, 'invalid_request'],
    [{ files: [{ name: 'a.js', content: '' }], entry: 'missing.js' }, 400, 'invalid_request'],
    [{ files: [{ name: 'a.js', content: '%%%', encoding: 'base64' }] }, 400, 'invalid_request'],
    [{ code: 'x', files: [{ name: 'a.js', content: '' }] }, 400, 'invalid_request'],
    [{ code: 'x', collect: ['../../etc/*'] }, 400, 'invalid_request'],
    [{ code: 'x', language: 'cobol' }, 400, 'invalid_request'],
    [{ files: Array.from({ length: 201 }, (_, i) => ({ name: `f${i}.js`, content: '' })) }, 413, 'payload_too_large'],
  ])('%j: %i %s', async (body, status, code) => {
    const answer = await execute<{ error: { code: string } }>(stack.url, body);
    expect(answer.status).toBe(status);
    expect(answer.body.error.code).toBe(code);
  });
});
