import { parseExecutionRequest, type ExecutionLimits, type ExecutionRequest, type ExecutionResult, type Job } from './api';
import { signalNumber } from './compat-signals';
import { CorralError } from './errors';
import { LANGUAGES, type Language } from './program';
import type { ExecutionStatus } from './status';

/**
 * Piston's v2 API (engineer-man/piston `api/src/api/v2.js`) onto corral's own request and result:
 * the fields it takes, the one status table, and its refusals word for word.
 */

/** What `POST /api/v2/execute` reads; any other field is ignored, as Piston ignores it. */
export const PISTON_EXECUTE_FIELDS = [
  'language',
  'version',
  'files',
  'stdin',
  'args',
  'run_timeout',
  'run_cpu_time',
  'run_memory_limit',
  'compile_timeout',
  'compile_cpu_time',
  'compile_memory_limit',
] as const;

/** One entry of `GET /api/v2/runtimes`. */
export interface PistonRuntime {
  language: Language;
  version: string;
  aliases: string[];
  runtime: 'node';
}

/** Piston's status letters (isolate's, plus its own output limits). */
export type PistonStatus = 'RE' | 'SG' | 'TO' | 'OL' | 'EL' | 'XX';

/** The run stage of Piston's answer. */
export interface PistonRun {
  stdout: string;
  stderr: string;
  /** stdout then stderr (corral keeps the two apart, so their interleaving is not known). */
  output: string;
  code: number | null;
  signal: string | null;
  message: string | null;
  status: PistonStatus | null;
  /** Milliseconds. */
  cpu_time: number | null;
  wall_time: number | null;
  /** Bytes. */
  memory: number | null;
}

export interface PistonExecuteAnswer {
  language: Language;
  version: string;
  run: PistonRun;
}

type RunEnding = Pick<PistonRun, 'status' | 'code' | 'signal' | 'message'>;

function fatalSignal(signal: string): RunEnding {
  return { status: 'SG', code: null, signal, message: `Caught fatal signal ${signalNumber(signal) ?? signal}` };
}

/** The one table: how each corral status ends Piston's run stage (isolate's words for each). */
export const PISTON_STATUS: Readonly<Record<ExecutionStatus, (r: ExecutionResult) => RunEnding>> = {
  ok: (r) => ({ status: null, code: r.exitCode ?? 0, signal: null, message: null }),
  error: (r) => (r.signal ? fatalSignal(r.signal) : { status: 'RE', code: r.exitCode, signal: null, message: `Exited with error status ${r.exitCode ?? 1}` }),
  timeout: () => ({ status: 'TO', code: null, signal: 'SIGKILL', message: 'Time limit exceeded (wall clock)' }),
  cpu_limit: () => ({ status: 'TO', code: null, signal: 'SIGKILL', message: 'Time limit exceeded' }),
  memory_limit: (r) => fatalSignal(r.signal ?? 'SIGKILL'),
  output_limit: (r) =>
    r.stderr.length > r.stdout.length
      ? { status: 'EL', code: null, signal: 'SIGKILL', message: 'stderr length exceeded' }
      : { status: 'OL', code: null, signal: 'SIGKILL', message: 'stdout length exceeded' },
};

/** A corral result as Piston answers it. */
export function pistonAnswer(runtime: PistonRuntime, r: ExecutionResult): PistonExecuteAnswer {
  const ending = PISTON_STATUS[r.status](r);
  return {
    language: runtime.language,
    version: runtime.version,
    run: { stdout: r.stdout, stderr: r.stderr, output: r.stdout + r.stderr, ...ending, cpu_time: r.cpuMs, wall_time: r.durationMs, memory: r.memoryBytes },
  };
}

/** An execution corral could not finish (its worker failed under it): isolate's internal error, `XX`. */
export function pistonInternalError(runtime: PistonRuntime, message: string): PistonExecuteAnswer {
  return {
    language: runtime.language,
    version: runtime.version,
    run: { stdout: '', stderr: '', output: '', status: 'XX', code: null, signal: null, message, cpu_time: null, wall_time: null, memory: null },
  };
}

const MIB = 1024 * 1024;

/** Piston's refusal: a 400 whose body is `{ message }`, with corral's code beside it. */
function refuse(message: string): never {
  throw new CorralError('invalid_request', message);
}

/** The maxima Piston checks its limits against (0: none, as for the compile stage nothing compiles). */
function configuredLimits(limits: ExecutionLimits): Record<string, number> {
  return { run_timeout: limits.maxTimeoutMs, run_cpu_time: limits.maxCpuMs, run_memory_limit: limits.maxMemoryMb * MIB };
}

function checkConstraints(body: Record<string, unknown>, limits: ExecutionLimits): void {
  const configured = configuredLimits(limits);
  for (const constraint of ['memory_limit', 'timeout', 'cpu_time']) {
    for (const type of ['compile', 'run']) {
      const name = `${type}_${constraint}`;
      const value = body[name];
      const limit = configured[name] ?? 0;
      if (!value) continue;
      if (typeof value !== 'number') refuse(`If specified, ${name} must be a number`);
      // -1 is Piston's own default for memory ("no limit"): here, corral's default.
      if (limit <= 0 || (constraint === 'memory_limit' && value === -1)) continue;
      if (value > limit) refuse(`${name} cannot exceed the configured limit of ${limit}`);
      if (value < 0) refuse(`${name} must be non-negative`);
    }
  }
}

type PistonFile = { name?: unknown; content: string; encoding?: unknown };

/** Piston's files as corral's: default names, hex as base64, the first utf8 file the entry (with its language's extension). */
function programFiles(files: PistonFile[], language: Language): Pick<ExecutionRequest, 'files' | 'entry'> {
  const extensions: readonly string[] = LANGUAGES[language].extensions;
  let entry: string | undefined;
  const converted = files.map((file, i) => {
    const encoding = file.encoding === 'base64' || file.encoding === 'hex' ? file.encoding : 'utf8';
    let name = (file.name || `file${i}.code`) as string;
    if (encoding === 'utf8' && entry === undefined) {
      if (typeof name === 'string' && !extensions.some((ext) => name.endsWith(ext))) name = `${name}${extensions[0]}`;
      entry = name;
    }
    // Piston decodes as Buffer.from does, leniently; corral is given the bytes it decoded.
    if (encoding === 'utf8') return { name, content: file.content, encoding: 'utf8' as const };
    return { name, content: Buffer.from(file.content, encoding).toString('base64'), encoding: 'base64' as const };
  });
  return { files: converted, ...(entry === undefined ? {} : { entry }) };
}

/**
 * `POST /api/v2/execute` as corral's job, with the runtime it asked for. `resolve` finds the
 * newest runtime whose language or alias is `language` and whose version satisfies the semver
 * selector `version`.
 * @throws CorralError invalid_request (Piston's 400 message), payload_too_large
 */
export function parsePistonExecute(
  body: unknown,
  resolve: (language: string, version: string) => PistonRuntime | undefined,
  limits: ExecutionLimits,
): { job: Job; runtime: PistonRuntime } {
  const b = (typeof body === 'object' && body !== null && !Array.isArray(body) ? body : {}) as Record<string, unknown>;
  const { language, version, files } = b;
  if (!language || typeof language !== 'string') refuse('language is required as a string');
  if (!version || typeof version !== 'string') refuse('version is required as a string');
  if (!files || !Array.isArray(files)) refuse('files is required as an array');
  for (const [i, file] of files.entries()) {
    if (typeof (file as PistonFile | null)?.content !== 'string') refuse(`files[${i}].content is required as a string`);
  }
  const runtime = resolve(language, version);
  if (!runtime) refuse(`${language}-${version} runtime is unknown`);
  const pistonFiles = files as PistonFile[];
  if (!pistonFiles.some((f) => !f.encoding || f.encoding === 'utf8')) refuse('files must include at least one utf8 encoded file');
  checkConstraints(b, limits);
  // Piston ends stdin with a newline when it has none.
  const stdin = b['stdin'] ?? '';
  const request: Record<string, unknown> = {
    language: runtime.language,
    ...programFiles(pistonFiles, runtime.language),
    stdin: typeof stdin === 'string' && !stdin.endsWith('\n') ? `${stdin}\n` : stdin,
    args: b['args'] ?? [],
  };
  const { run_timeout: timeout, run_cpu_time: cpu, run_memory_limit: memory } = b as Record<string, number | undefined>;
  if (timeout) request['timeoutMs'] = Math.ceil(timeout);
  if (cpu) request['cpuMs'] = Math.ceil(cpu);
  // Bytes of the whole process in Piston; corral's budget is in MiB, at least its minimum.
  if (memory && memory !== -1) request['memoryMb'] = Math.min(limits.maxMemoryMb, Math.max(limits.minMemoryMb, Math.ceil(memory / MIB)));
  return { job: parseExecutionRequest(request, limits), runtime };
}
