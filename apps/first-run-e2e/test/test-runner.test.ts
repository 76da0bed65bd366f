import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '@corral/devkit';

/**
 * `npm test` never hangs: a workspace of two projects, one passing and one whose failing test
 * leaves a server open (Jest alone would wait for it forever), run through the project's own
 * test runner and Jest settings. It must end on its own, name the project, and print the totals.
 */
let workspace: string;

function write(path: string, text: string): void {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
}

beforeAll(() => {
  workspace = mkdtempSync(join(tmpdir(), 'corral-test-runner-'));
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(workspace, 'node_modules'));
  write(
    join(workspace, 'package.json'),
    JSON.stringify({
      name: 'runner-fixture',
      private: true,
      workspaces: ['p/*'],
      scripts: { test: `${join(REPO_ROOT, 'tools', 'scripts', 'pinned')} node ${join(REPO_ROOT, 'tools', 'scripts', 'test.mjs')}` },
    }),
  );
  // The project's own Jest settings and lockfile, at the same place (Nx takes a Jest config's files
  // as inputs only inside the workspace, and knows Jest as a dependency from the lockfile).
  for (const file of ['package-lock.json', 'jest.preset.cjs', 'tools/scripts/summary-reporter.cjs', 'tools/scripts/jest-resolver.cjs', 'tools/scripts/esm-only.cjs']) {
    mkdirSync(join(workspace, file, '..'), { recursive: true });
    copyFileSync(join(REPO_ROOT, file), join(workspace, file));
  }
  write(join(workspace, 'nx.json'), JSON.stringify({ neverConnectToCloud: true, plugins: [{ plugin: '@nx/jest/plugin', options: { targetName: 'test' } }] }));
  const jestConfig = "module.exports = { ...require('../../jest.preset.cjs'), rootDir: __dirname };\n";
  for (const [name, body] of [
    ['good', "it('passes', () => expect(1 + 1).toBe(2));\n"],
    ['bad', "it('fails and leaves a server open', () => {\n  require('node:net').createServer().listen(0, '127.0.0.1');\n  expect(1 + 1).toBe(3);\n});\n"],
  ] as const) {
    write(join(workspace, 'p', name, 'package.json'), JSON.stringify({ name: `@fixture/${name}`, private: true }));
    write(join(workspace, 'p', name, 'jest.config.cjs'), jestConfig);
    write(join(workspace, 'p', name, 'test', `${name}.test.ts`), body);
  }
});
afterAll(() => rmSync(workspace, { recursive: true, force: true }));

it('a failing test with an open handle makes npm test fail promptly, naming the project, with the totals line', async () => {
  const child = spawn('npm', ['test', '--silent'], {
    cwd: workspace,
    env: { ...process.env, CORRAL_TEST_WORKSPACE: workspace, CORRAL_TEST_EXIT_GRACE_S: '2', NX_DAEMON: 'false', CI: 'true' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  // Jest's own wait for the open server has no end: only the runner's bound ends this.
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  expect(code).toBe(1);
  expect(output).toMatch(/@fixture\/bad did not exit 2 s after its tests ended/);
  const lines = output.trim().split('\n');
  expect(lines[lines.length - 1]).toBe('1 passed, 2 failed');
}, 120_000);
