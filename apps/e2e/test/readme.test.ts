import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Stack } from '@corral/devkit';
import { startQuietStack } from './helpers';

/**
 * README's curl examples run as written against the real stack, with only the address changed
 * (README says 127.0.0.1:8080 or localhost:8080, the stack here has a port of its own). The quick
 * start's own example is run by first-run-e2e in a fresh clone; this runs every other one.
 */
const README = readFileSync(join(__dirname, '../../../README.md'), 'utf8');
const examples = [...README.matchAll(/```sh\n([\s\S]*?)```/gu)]
  .map((m) => (m[1] as string).trim())
  .filter((block) => block.startsWith('curl '));

let stack: Stack;
beforeAll(async () => {
  stack = await startQuietStack(2);
}, 120_000);
afterAll(async () => {
  await stack?.stop();
});

it('README has curl examples to run', () => {
  expect(examples.length).toBeGreaterThanOrEqual(2);
});

it.each(examples.map((e) => [e.split('\n')[0]?.slice(0, 70) ?? e, e]))('%s … answers without an error', (_title, example) => {
  const command = example.replace(/https?:\/\/(127\.0\.0\.1|localhost):8080|(?<![\w/])(127\.0\.0\.1|localhost):8080/gu, stack.url);
  const out = execFileSync('sh', ['-c', command], { encoding: 'utf8', timeout: 60_000 });
  const answer = JSON.parse(out) as Record<string, unknown>;
  expect(answer['error']).toBeUndefined();
  if (example.includes('"tests"')) {
    // README's judging example has one right and one wrong expected output.
    expect(answer['summary']).toMatchObject({ total: 2, accepted: 1, failed: 1, status: 'wrong_answer' });
  } else {
    expect(answer['status']).toBe('ok');
  }
});
