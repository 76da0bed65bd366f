import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ProgramFile } from '@corral/contracts';

/**
 * TypeScript's types stripped on the trusted side, once per job, instead of in every sandbox.
 *
 * The runtime strips types with amaro, a WebAssembly build of swc that it compiles the first time
 * a process strips anything: about 65 ms of CPU in every sandbox that runs TypeScript, against
 * 0.08 ms per small file once the worker holds a compiled copy (BENCHMARKS.md, scenario 9). The
 * worker strips with the same amaro version as the sandbox runtime bundles, in the runtime's own
 * mode (strip-only: each type is replaced by spaces, so lines and columns, and with them stack
 * traces, stay exactly those of `node main.ts`). The bootstrap serves the stripped code for the
 * job's files as they arrived, and leaves every other case to the runtime: a file the job changed,
 * a file over the size bound, syntax amaro refuses (the runtime then reports it as `node main.ts`
 * does), a runtime with another amaro.
 *
 * amaro parses untrusted code in the worker: inside WebAssembly, so a parser bug cannot reach the
 * worker's memory; the size bound keeps the worker's thread free (about 4 MB/s, so 32 KiB cost
 * at most 8 ms).
 */

/** TypeScript of one job stripped here at most (bytes, all files together); beyond, the sandbox strips. */
export const STRIP_MAX_BYTES = 32 * 1024;

const TYPESCRIPT_FILE = /\.(?:ts|mts|cts)$/;

interface Amaro {
  transformSync(code: string, options: { mode: 'strip-only' }): { code: string };
}

let amaro: Amaro | null | undefined;
const runtimeAmaro = new Map<string, string | null>();

/** The amaro version `nodePath` bundles (null: none, or it cannot tell); asked once per binary. */
function bundledAmaro(nodePath: string): string | null {
  let bundled = runtimeAmaro.get(nodePath);
  if (bundled === undefined) {
    try {
      bundled = execFileSync(nodePath, ['-p', 'process.versions.amaro ?? ""'], { encoding: 'utf8', env: {} }).trim() || null;
    } catch {
      bundled = null;
    }
    runtimeAmaro.set(nodePath, bundled);
  }
  return bundled;
}

/** The version of the amaro package the worker would strip with. */
function ownAmaroVersion(): string | null {
  try {
    // amaro's exports do not include its package.json: read it beside its main file (dist/index.js).
    return (JSON.parse(readFileSync(join(dirname(require.resolve('amaro')), '..', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return null;
  }
}

/**
 * The amaro the worker strips with, when it is the one `nodePath` bundles; null otherwise. It is
 * loaded at the first TypeScript job, not before: once loaded, its WebAssembly memory makes
 * each fork of the worker (one per sandbox) cost about 0.3 ms more, so a worker that never sees
 * TypeScript never pays for it.
 */
function stripperFor(nodePath: string): Amaro | null {
  const bundled = bundledAmaro(nodePath);
  if (bundled === null) return null;
  if (amaro === undefined) {
    try {
      amaro = ownAmaroVersion() === bundled ? (require('amaro') as Amaro) : null;
    } catch {
      amaro = null;
    }
  }
  return amaro;
}

/**
 * The job's TypeScript files as the runtime would strip them, by name (undefined when there are
 * none, too many bytes, or no matching amaro); files amaro refuses are left out: the sandbox's
 * runtime then strips them itself and reports the error as `node main.ts` would.
 */
export function stripTypes(files: readonly ProgramFile[], nodePath: string): Record<string, string> | undefined {
  // Not under node_modules: node refuses to strip types there, and so does the bootstrap.
  const typescript = files.filter((file) => TYPESCRIPT_FILE.test(file.name) && !/(?:^|\/)node_modules\//.test(file.name) && (file.encoding ?? 'utf8') === 'utf8');
  if (typescript.length === 0) return undefined;
  const bytes = typescript.reduce((sum, file) => sum + Buffer.byteLength(file.content), 0);
  if (bytes > STRIP_MAX_BYTES) return undefined;
  const stripper = stripperFor(nodePath);
  if (!stripper) return undefined;
  const stripped: Record<string, string> = {};
  for (const file of typescript) {
    try {
      stripped[file.name] = stripper.transformSync(file.content, { mode: 'strip-only' }).code;
    } catch {
      // Syntax amaro refuses (an enum, a parse error): the runtime says so, as `node main.ts` would.
    }
  }
  return Object.keys(stripped).length > 0 ? stripped : undefined;
}

/**
 * Whether this worker strips TypeScript for sandboxes of `nodePath` (its amaro is the runtime's
 * own), asked now, at start-up (one `node -p` of the runtime); amaro itself loads at the first
 * TypeScript job (about 65 ms, once).
 */
export function prepareTypeScript(nodePath: string): boolean {
  return bundledAmaro(nodePath) !== null && bundledAmaro(nodePath) === ownAmaroVersion();
}
