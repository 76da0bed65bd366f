import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { CorralClient, ExecutionResult } from '@corral/client';
import { LANGUAGES, languageNamed } from '@corral/contracts';
import { resolveSandboxNode } from '@corral/sandbox';
import { corral, startQuietStack } from './helpers';
import { PROGRAMS, type Program } from './programs';
import type { Stack } from '@corral/devkit';

/**
 * corral runs a program as `node <entry>` of the same runtime would: the same stdout, stderr and
 * exit code, for every program of the table. The reference runs in a folder of its own, with an
 * empty environment; its folder's path is the only thing told apart (corral's is /work).
 */
let stack: Stack;
let client: CorralClient;
let refs: string;

beforeAll(async () => {
  stack = await startQuietStack(4);
  client = corral(stack.url);
  refs = mkdtempSync(join(tmpdir(), 'corral-ref-'));
});
afterAll(async () => {
  await stack?.stop();
  rmSync(refs, { recursive: true, force: true });
});

interface Seen {
  stdout: string;
  stderr: string;
  exitCode: number | null;
}

function reference(program: Program, index: number): Seen {
  const dir = join(refs, String(index));
  const { request } = program;
  const language = languageNamed(request.language ?? 'javascript') ?? 'javascript';
  const files = request.files ?? [{ name: LANGUAGES[language].main, content: request.code ?? '' }];
  for (const file of files) {
    mkdirSync(dirname(join(dir, file.name)), { recursive: true });
    writeFileSync(join(dir, file.name), file.content);
  }
  const entry = request.entry ?? files[0]!.name;
  const ran = spawnSync(resolveSandboxNode(), [entry, ...(request.args ?? [])], { cwd: dir, env: {}, input: request.stdin ?? '', encoding: 'utf8', timeout: 10_000 });
  const here = (text: string): string => text.replaceAll(`file://${dir}`, 'file:///work').replaceAll(dir, '/work');
  return { stdout: here(ran.stdout), stderr: here(ran.stderr), exitCode: ran.status };
}

describe('programs run as node runs them (a table of the programs people send)', () => {
  it(`holds at least 30 programs`, () => {
    expect(PROGRAMS.length).toBeGreaterThanOrEqual(30);
  });

  it.each(PROGRAMS.map((p, i) => [p.name, p, i] as const))('%s: stdout, stderr and exit code as node gives them', async (_name, program, index) => {
    const expected = reference(program, index);
    const answer = await client.execute(program.request, { raw: true, timeoutMs: 30_000 });
    expect(answer.status).toBe(200);
    const got = answer.body as ExecutionResult;
    expect({ stdout: got.stdout, stderr: got.stderr, exitCode: got.exitCode }).toEqual(expected);
    expect(got.status).toBe(expected.exitCode === 0 ? 'ok' : 'error');
  });
});
