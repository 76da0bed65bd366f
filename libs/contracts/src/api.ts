import { CorralError } from './errors';
import { LANGUAGES, languageNamed, parseCollect, parseProgramFiles, type CollectedFile, type Language, type ProgramFile } from './program';
import type { ExecutionStatus } from './status';

/** `POST /v1/executions` request body as clients send it: `code`, or `files` (with an `entry`). */
export interface ExecutionRequest {
  /** `javascript` (the default) or `typescript`, or an alias of either. */
  language?: string;
  /** One file, run as `node main.js` (or `node main.ts`) would run it. */
  code?: string;
  /** A small tree of files instead of `code`. */
  files?: { name: string; content: string; encoding?: 'utf8' | 'base64' }[];
  /** The file of `files` node runs; the first one when not given. */
  entry?: string;
  /** Globs of files in the working directory to return in the result. */
  collect?: string[];
  stdin?: string;
  args?: string[];
  timeoutMs?: number;
  cpuMs?: number;
  memoryMb?: number;
}

/** A request with every default applied: what the router hands to a worker. */
export interface Job {
  language: Language;
  files: ProgramFile[];
  entry: string;
  collect: string[];
  stdin: string;
  args: string[];
  timeoutMs: number;
  cpuMs: number;
  memoryMb: number;
}

/** The answer to every execution that ran, whatever the code did (HTTP 200). */
export interface ExecutionResult {
  id: string;
  status: ExecutionStatus;
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  truncated: boolean;
  durationMs: number;
  cpuMs: number;
  memoryBytes: number;
  /** The files `collect` matched, when it was given. */
  files?: CollectedFile[];
}

/** Bounds on what one execution may ask for; shared by router (validation) and worker (enforcement). */
export interface ExecutionLimits {
  maxCodeBytes: number;
  maxStdinBytes: number;
  maxArgs: number;
  maxArgBytes: number;
  defaultTimeoutMs: number;
  maxTimeoutMs: number;
  maxCpuMs: number;
  defaultMemoryMb: number;
  minMemoryMb: number;
  maxMemoryMb: number;
  maxFiles: number;
  /** The files' decoded bytes together. */
  maxFilesBytes: number;
  /** Patterns in `collect`. */
  maxCollect: number;
}

export const DEFAULT_EXECUTION_LIMITS: Readonly<ExecutionLimits> = Object.freeze({
  maxCodeBytes: 256 * 1024,
  maxStdinBytes: 1024 * 1024,
  maxArgs: 64,
  maxArgBytes: 4096,
  defaultTimeoutMs: 5000,
  maxTimeoutMs: 60_000,
  maxCpuMs: 60_000,
  defaultMemoryMb: 128,
  minMemoryMb: 16,
  maxMemoryMb: 1024,
  maxFiles: 200,
  maxFilesBytes: 4 * 1024 * 1024,
  maxCollect: 16,
});

/** Every field a request may have; any other is rejected. */
export const REQUEST_FIELDS = ['language', 'code', 'files', 'entry', 'collect', 'stdin', 'args', 'timeoutMs', 'cpuMs', 'memoryMb'] as const;

/** How many offending names an error message lists, and how much of each: a client chooses them. */
const NAMED_AT_MOST = 5;
const NAME_CHARS = 40;

/** `"a", "b" and 3 more`: the first few names, quoted and shortened, so that a message stays small whatever was sent. */
export function nameSome(names: readonly string[]): string {
  const shown = names.slice(0, NAMED_AT_MOST).map((name) => JSON.stringify(name.length > NAME_CHARS ? `${name.slice(0, NAME_CHARS)}…` : name));
  const more = names.length - shown.length;
  return more > 0 ? `${shown.join(', ')} and ${more} more` : shown.join(', ');
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function intField(
  body: Record<string, unknown>,
  name: string,
  min: number,
  max: number,
  problems: string[],
): number | undefined {
  const value = body[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    problems.push(`${name} must be an integer`);
    return undefined;
  }
  if (value < min || value > max) {
    problems.push(`${name} must be between ${min} and ${max}, got ${value}`);
    return undefined;
  }
  return value;
}

/**
 * Validates a parsed request body and applies defaults. Unknown fields (not in `allowed`) are
 * rejected so that a typo (`timeout` for `timeoutMs`) is an error, not a silently ignored limit.
 * @throws CorralError `invalid_request` (400) or `payload_too_large` (413)
 */
export function parseExecutionRequest(body: unknown, limits: ExecutionLimits, allowed: readonly string[] = REQUEST_FIELDS): Job {
  if (!isPlainObject(body)) {
    throw new CorralError('invalid_request', 'The request body must be a JSON object.');
  }
  const problems: string[] = [];
  // `allowed` may name more fields than a job has (a submission's own): those are the caller's to read.
  const unknown = Object.keys(body).filter((key) => !allowed.includes(key));
  if (unknown.length > 0) {
    problems.push(`unknown field${unknown.length > 1 ? 's' : ''} ${nameSome(unknown)} (allowed: ${allowed.join(', ')})`);
  }

  const { code, stdin, args, files, entry, collect } = body;
  let language: Language = 'javascript';
  if (body['language'] !== undefined) {
    const named = typeof body['language'] === 'string' ? languageNamed(body['language']) : null;
    if (named) language = named;
    else problems.push(`language must be one of ${Object.keys(LANGUAGES).join(', ')} (or an alias of one: see GET /v1/runtimes)`);
  }
  let program: { files: ProgramFile[]; entry: string; collect: string[] } | null = null;
  if (code !== undefined && files !== undefined) problems.push('send code or files, not both');
  else if (files !== undefined) program = parseProgramFiles({ files, entry, collect }, limits, problems);
  else if (code === undefined) problems.push('code (or files) is required');
  else if (typeof code !== 'string') problems.push('code must be a string');
  else if (code.length === 0) problems.push('code must not be empty');
  else {
    if (entry !== undefined) problems.push('entry goes with files, not with code');
    const main = LANGUAGES[language].main;
    program = { files: [{ name: main, content: code, encoding: 'utf8' }], entry: main, collect: parseCollect(collect, limits, problems) };
  }
  if (stdin !== undefined && typeof stdin !== 'string') problems.push('stdin must be a string');
  if (args !== undefined) {
    if (!Array.isArray(args) || !args.every((a) => typeof a === 'string')) {
      problems.push('args must be an array of strings');
    } else if (args.length > limits.maxArgs) {
      problems.push(`args may hold at most ${limits.maxArgs} entries`);
    } else if (args.some((a) => Buffer.byteLength(a) > limits.maxArgBytes || a.includes('\0'))) {
      problems.push(`each arg must be at most ${limits.maxArgBytes} bytes and hold no NUL`);
    }
  }
  const timeoutMs = intField(body, 'timeoutMs', 1, limits.maxTimeoutMs, problems);
  const cpuMs = intField(body, 'cpuMs', 1, limits.maxCpuMs, problems);
  const memoryMb = intField(body, 'memoryMb', limits.minMemoryMb, limits.maxMemoryMb, problems);
  if (problems.length > 0) {
    throw new CorralError('invalid_request', `Invalid request: ${problems.join('; ')}.`, { problems });
  }

  const codeBytes = typeof code === 'string' ? Buffer.byteLength(code) : 0;
  if (codeBytes > limits.maxCodeBytes) {
    throw new CorralError('payload_too_large', `code is ${codeBytes} bytes; the limit is ${limits.maxCodeBytes}.`);
  }
  const stdinText = (stdin as string | undefined) ?? '';
  const stdinBytes = Buffer.byteLength(stdinText);
  if (stdinBytes > limits.maxStdinBytes) {
    throw new CorralError('payload_too_large', `stdin is ${stdinBytes} bytes; the limit is ${limits.maxStdinBytes}.`);
  }

  const wall = timeoutMs ?? limits.defaultTimeoutMs;
  const { files: programFiles, entry: programEntry, collect: programCollect } = program as NonNullable<typeof program>;
  return {
    language,
    files: programFiles,
    entry: programEntry,
    collect: programCollect,
    stdin: stdinText,
    args: (args as string[] | undefined) ?? [],
    timeoutMs: wall,
    cpuMs: cpuMs ?? Math.min(wall, limits.maxCpuMs),
    memoryMb: memoryMb ?? limits.defaultMemoryMb,
  };
}
