import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { ProgramFile } from '@corral/contracts';
import { loadWorkerConfig } from '@corral/config';
import { BOOTSTRAP_PATH, resolveSandboxNode, resolveSpawnHelper } from './paths';
import { sandboxProfile } from './profile';
import { Sandbox, type RunRequest, type SandboxOptions } from './sandbox';
import { prepareTypeScript, STRIP_MAX_BYTES, stripTypes } from './typescript';

/**
 * TypeScript stripped by the worker must run exactly as `node main.ts` runs the same files: the
 * same output, format (CommonJS or ES module), line numbers and errors; and without the runtime
 * loading amaro itself where the worker stripped. Each case runs in a sandbox and, for reference,
 * as a plain `node <entry>` of the same files in a folder of their own.
 */
const node = resolveSandboxNode();
let cwd: string;
beforeAll(() => {
  cwd = mkdtempSync(join(tmpdir(), 'corral-ts-spec-'));
});
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

const profile = sandboxProfile(loadWorkerConfig({ CORRAL_HOST_ID: `ts-spec-${process.pid}`, CORRAL_SANDBOX_JAIL: 'auto' }));
const started: Sandbox[] = [];
afterAll(async () => {
  for (const sandbox of started) sandbox.kill();
  await Promise.all(started.map((sandbox) => sandbox.exited));
  profile.release();
});

/** Printed by every case as its last line: did this process load amaro? */
const AMARO = "process.on('exit', () => console.log('amaro', process.moduleLoadList.some((m) => m.includes('amaro'))));";

async function inSandbox(options: SandboxOptions, files: ProgramFile[], entry: string): Promise<{ stdout: string; stderr: string; code: number | null }> {
  const sandbox = new Sandbox(options);
  started.push(sandbox);
  await sandbox.ready;
  const request: RunRequest = { files, entry, args: [], stdin: '', timeoutMs: 10_000, maxOutputBytes: 1 << 20 };
  const r = await sandbox.run(request);
  return { stdout: r.stdout.toString(), stderr: r.stderr.toString(), code: r.exit.exitCode };
}

/** The same files run by a plain `node <entry>` (what the sandbox must match). */
function plainNode(files: ProgramFile[], entry: string): { stdout: string; stderr: string; code: number } {
  const dir = mkdtempSync(join(cwd, 'plain-'));
  for (const file of files) {
    mkdirSync(dirname(join(dir, file.name)), { recursive: true });
    writeFileSync(join(dir, file.name), file.content);
  }
  try {
    return { stdout: execFileSync(node, [join(dir, entry)], { cwd: dir, env: {}, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }), stderr: '', code: 0 };
  } catch (err) {
    const e = err as { stdout: string; stderr: string; status: number };
    return { stdout: e.stdout, stderr: e.stderr, code: e.status };
  }
}

const ts = (name: string, content: string): ProgramFile => ({ name, content, encoding: 'utf8' });

const CASES: { label: string; files: ProgramFile[]; entry: string; strippedByWorker: boolean }[] = [
  {
    label: 'a .ts script (CommonJS by detection), with its stack trace',
    files: [ts('main.ts', `${AMARO}\nconst n: number = 6 * 7;\ninterface Shape { sides: number }\nconst s: Shape = { sides: 3 };\nconsole.log(n, s.sides, typeof require, new Error('here').stack!.split('\\n')[1]!.trim().replace(/\\(.*\\//, '('));`)],
    entry: 'main.ts',
    strippedByWorker: true,
  },
  {
    label: 'a .ts ES module (import syntax) importing a .mts and requiring a .cts',
    files: [
      ts('main.ts', `import { y } from './b.mts';\nimport { createRequire } from 'node:module';\n${AMARO}\nconst z: number = createRequire(import.meta.url)('./c.cts').z;\nconsole.log('esm', y, z, typeof require);`),
      ts('b.mts', 'export const y: number = 2;'),
      ts('c.cts', 'exports.z = 3 as number;'),
    ],
    entry: 'main.ts',
    strippedByWorker: true,
  },
  {
    label: 'a .ts under a package.json of "type": "module"',
    files: [ts('main.ts', `${AMARO}\nconst x: string = 'module by type';\nconsole.log(x, typeof require, import.meta.url.endsWith('/main.ts'));`), ts('package.json', '{"type":"module"}')],
    entry: 'main.ts',
    strippedByWorker: true,
  },
  {
    label: 'top-level await in a .ts without imports (node tells it by an ES module compile)',
    files: [ts('main.ts', `${AMARO}\nconst v: number = await Promise.resolve(5);\nconsole.log('tla', v);`)],
    entry: 'main.ts',
    strippedByWorker: false,
  },
  {
    label: 'top-level await inside a call (a CommonJS compile fails otherwise: node decides)',
    files: [ts('main.ts', `${AMARO}\nconst id = <T,>(x: T): T => x;\nconsole.log(await id<string>('ok'));`)],
    entry: 'main.ts',
    strippedByWorker: false,
  },
  {
    label: 'TypeScript under node_modules (node refuses to strip it)',
    files: [{ name: 'main.js', content: "console.log(require('./node_modules/dep/index.ts').v);", encoding: 'utf8' }, ts('node_modules/dep/index.ts', 'exports.v = 1 as number;')],
    entry: 'main.js',
    strippedByWorker: false,
  },
  {
    label: 'an enum (refused in strip-only mode: the runtime reports it)',
    files: [ts('main.ts', 'enum Color { Red }\nconsole.log(Color.Red);')],
    entry: 'main.ts',
    strippedByWorker: false,
  },
  {
    label: 'a syntax error after the types (amaro refuses it)',
    files: [ts('main.ts', 'const a: number = 1;\nconsole.log(a +);')],
    entry: 'main.ts',
    strippedByWorker: true,
  },
];

describe.each([
  ['without OS layers', (): SandboxOptions => ({ nodePath: node, helperPath: resolveSpawnHelper(), bootstrapPath: BOOTSTRAP_PATH, heapMb: 128, cwd })],
  ['inside every OS layer this host allows', (): SandboxOptions => profile.options({ slotIndex: 5, heapMb: 128 })],
])('TypeScript stripped by the worker, %s', (_mode, optionsFor) => {
  beforeAll(() => {
    expect(prepareTypeScript(optionsFor().nodePath)).toBe(true);
  });

  it.each(CASES)('$label runs as node runs it', async ({ files, entry, strippedByWorker }) => {
    const sandboxed = await inSandbox(optionsFor(), files, entry);
    const plain = plainNode(files, entry);
    const withoutAmaroLine = (out: string) => out.replace(/^amaro (true|false)\n/m, '');
    expect(withoutAmaroLine(sandboxed.stdout)).toBe(withoutAmaroLine(plain.stdout));
    expect(sandboxed.code).toBe(plain.code);
    // The error's own lines, without the paths (the sandbox's /work against the plain folder).
    const firstLines = (err: string) => err.split('\n').filter((line) => /Error|\^|\.ts:\d/.test(line)).map((line) => line.replace(/\/[^\s:)]*\//g, '/'));
    expect(firstLines(sandboxed.stderr)).toEqual(firstLines(plain.stderr));
    if (plain.stdout.includes('amaro')) expect(sandboxed.stdout).toContain(`amaro ${!strippedByWorker}\n`);
  });

  it('strips again in the sandbox a file the job changed before importing it', async () => {
    const files = [
      ts('main.ts', "require('node:fs').writeFileSync('./lib.ts', 'export const v: string = \"changed\";');\nconst lib: { v: string } = require('./lib.ts');\nconsole.log(lib.v);"),
      ts('lib.ts', 'export const v: string = "original";'),
    ];
    expect((await inSandbox(optionsFor(), files, 'main.ts')).stdout).toBe('changed\n');
  });
});

describe('stripTypes', () => {
  it('strips as the runtime does, keeping every line and column', () => {
    const stripped = stripTypes([ts('main.ts', 'const n: number = 1;\nfunction f(a: string): void {}\n')], node);
    expect(stripped).toEqual({ 'main.ts': 'const n         = 1;\nfunction f(a        )       {}\n' });
  });

  it('leaves out JavaScript, refused syntax, base64 files and jobs over the size bound', () => {
    expect(stripTypes([{ name: 'main.js', content: 'console.log(1)', encoding: 'utf8' }], node)).toBeUndefined();
    expect(stripTypes([ts('main.ts', 'enum E { A }')], node)).toBeUndefined();
    expect(stripTypes([{ name: 'main.ts', content: Buffer.from('const a: number = 1;').toString('base64'), encoding: 'base64' }], node)).toBeUndefined();
    expect(stripTypes([ts('main.ts', `const a: number = 1;${' '.repeat(STRIP_MAX_BYTES)}`)], node)).toBeUndefined();
  });

  it('strips nothing for a runtime that bundles no amaro (node --version answers, -p prints nothing)', () => {
    const fake = join(cwd, 'fake-node');
    writeFileSync(fake, '#!/bin/sh\necho\n', { mode: 0o755 });
    expect(stripTypes([ts('main.ts', 'const a: number = 1;')], fake)).toBeUndefined();
  });
});
