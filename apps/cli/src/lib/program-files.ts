import { readFile } from 'node:fs/promises';
import { basename, dirname, extname, isAbsolute, relative, sep } from 'node:path';
import type { ExecutionRequest } from '@corral/contracts';
import { UsageError } from './usage';

/** What `corral run` and `corral test` send as the program: one file as `code`, several as `files` with the first as `entry`. */
export interface ProgramOptions {
  ts?: boolean;
  timeout?: number;
  memory?: number;
  stdin?: string;
}

const TS_EXTENSIONS = new Set(['.ts', '.mts', '.cts']);

async function readSource(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

/** Reads stdin to its end: `--stdin -`. */
async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** The `stdin` field: a file's content, or this process's stdin with `-`. */
export function readInput(spec: string | undefined): Promise<string | undefined> {
  if (spec === undefined) return Promise.resolve(undefined);
  return spec === '-' ? readStdin() : readSource(spec);
}

/**
 * A file's name in the program: its path from the entry's folder (`lib/util.js`), so that the
 * program's relative requires hold; a file outside that folder goes by its base name.
 */
function nameIn(entry: string, path: string): string {
  const name = relative(dirname(entry), path);
  return name.startsWith('..') || isAbsolute(name) ? basename(path) : name.split(sep).join('/');
}

/** The execution request for `paths` (the first is the entry) and the limits asked for. */
export async function programRequest(paths: string[], options: ProgramOptions): Promise<ExecutionRequest> {
  if (paths.length === 0) throw new UsageError('no program file given');
  const entry = paths[0] as string;
  const typescript = options.ts === true || TS_EXTENSIONS.has(extname(entry));
  const limits: Partial<ExecutionRequest> = {
    ...(options.timeout === undefined ? {} : { timeoutMs: options.timeout }),
    ...(options.memory === undefined ? {} : { memoryMb: options.memory }),
    ...(options.stdin === undefined ? {} : { stdin: options.stdin }),
  };
  const language = typescript ? 'typescript' : 'javascript';
  if (paths.length === 1) {
    return { language, code: await readSource(entry), ...limits };
  }
  const names = paths.map((p) => nameIn(entry, p));
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice) throw new UsageError(`two files named ${twice}: files are named by their path from the entry's folder, or by their base name outside it`);
  const files = await Promise.all(paths.map(async (p, i) => ({ name: names[i] as string, content: await readSource(p) })));
  return { language, files, entry: basename(entry), ...limits };
}
