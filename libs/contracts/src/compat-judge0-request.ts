import { JUDGE0_LANGUAGE_IDS, JUDGE0_SOURCE_FILES, type Judge0Config } from './compat-judge0';
import { CorralError } from './errors';
import { parseSubmission, type Submission, type SubmissionLimits } from './submission';

/**
 * A Judge0 submission (`POST /submissions`) as corral's: validated as Judge0's model validates it
 * (its messages, in its 422 shape `{ field: [messages] }`), defaults applied as Judge0 applies them.
 */

/** A Judge0 submission's own attributes, defaults applied: kept with the execution and echoed by `fields`. */
export interface Judge0Echo {
  source_code: string;
  language_id: number;
  stdin: string | null;
  expected_output: string | null;
  number_of_runs: number;
  cpu_time_limit: number;
  cpu_extra_time: number;
  wall_time_limit: number;
  memory_limit: number;
  stack_limit: number;
  max_processes_and_or_threads: number;
  enable_per_process_and_thread_time_limit: boolean;
  enable_per_process_and_thread_memory_limit: boolean;
  max_file_size: number;
  compiler_options: string | null;
  command_line_arguments: string | null;
  redirect_stderr_to_stdout: boolean;
  callback_url: string | null;
  enable_network: boolean;
}

/** The tag a Judge0 submission's record keeps: its attributes, marked as Judge0's. */
export function judge0Tag(echo: Judge0Echo): string {
  return JSON.stringify({ api: 'judge0', echo });
}

/** The attributes a record's tag keeps, when it is a Judge0 submission's; null otherwise. */
export function judge0Echo(tag: string | null): Judge0Echo | null {
  if (tag === null) return null;
  try {
    const parsed = JSON.parse(tag) as { api?: unknown; echo?: Judge0Echo };
    return parsed.api === 'judge0' && parsed.echo ? parsed.echo : null;
  } catch {
    return null;
  }
}

/** Field errors as Judge0 answers them (422). */
export type Judge0FieldErrors = Record<string, string[]>;

/** Ruby's way of writing a number in a message: a Float keeps its `.0`. */
function ruby(value: number, float: boolean): string {
  return float && Number.isInteger(value) ? `${value}.0` : String(value);
}

type NumericField = 'number_of_runs' | 'cpu_time_limit' | 'cpu_extra_time' | 'wall_time_limit' | 'memory_limit' | 'stack_limit' | 'max_processes_and_or_threads' | 'max_file_size';
type Bound = { field: NumericField; min: number; minExclusive?: boolean; max: keyof Judge0Config; float: boolean; fallback: keyof Judge0Config };

/** The numeric attributes and their bounds (Submission's `validates … numericality`). */
const NUMERIC: readonly Bound[] = [
  { field: 'number_of_runs', min: 0, minExclusive: true, max: 'max_number_of_runs', float: false, fallback: 'number_of_runs' },
  { field: 'cpu_time_limit', min: 0, max: 'max_cpu_time_limit', float: true, fallback: 'cpu_time_limit' },
  { field: 'cpu_extra_time', min: 0, max: 'max_cpu_extra_time', float: true, fallback: 'cpu_extra_time' },
  { field: 'wall_time_limit', min: 1, max: 'max_wall_time_limit', float: true, fallback: 'wall_time_limit' },
  { field: 'memory_limit', min: 2048, max: 'max_memory_limit', float: false, fallback: 'memory_limit' },
  { field: 'stack_limit', min: 0, max: 'max_stack_limit', float: false, fallback: 'stack_limit' },
  { field: 'max_processes_and_or_threads', min: 0, minExclusive: true, max: 'max_max_processes_and_or_threads', float: false, fallback: 'max_processes_and_or_threads' },
  { field: 'max_file_size', min: 0, max: 'max_max_file_size', float: false, fallback: 'max_file_size' },
];

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/u;

/** Base64 as Judge0's clients send it (RFC 2045 lines allowed); null when it is not base64. */
function fromBase64(text: string): { bytes: string; text: string } | null {
  const compact = text.replace(/\s+/gu, '');
  if (!BASE64.test(compact) || compact.length % 4 === 1) return null;
  const buffer = Buffer.from(compact, 'base64');
  return { bytes: buffer.toString('base64'), text: buffer.toString('utf8') };
}

/** Words of `command_line_arguments` as bash reads them after Judge0 drops `$&;<>|\``: quotes group, backslashes escape. */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  for (const match of line.replace(/[$&;<>|`]/gu, '').matchAll(/"((?:\\.|[^"\\])*)"|'([^']*)'|((?:\\.|[^\s"'\\])+)/gu)) {
    words.push(match[1] !== undefined ? match[1].replace(/\\(.)/gu, '$1') : (match[2] ?? (match[3] as string).replace(/\\(.)/gu, '$1')));
  }
  return words;
}

function isBlank(value: unknown): boolean {
  return value === undefined || value === null || (typeof value === 'string' && value.trim() === '');
}

function text(value: unknown): string | null {
  return value === undefined || value === null ? null : String(value);
}

function numeric(value: unknown): number | null | 'NaN' {
  if (value === undefined || value === null || value === '') return null;
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/u.test(value) ? Number(value) : NaN;
  return Number.isFinite(n) ? n : 'NaN';
}

function flag(value: unknown, fallback: boolean): boolean {
  if (value === undefined || value === null || value === '') return fallback;
  return value === true || value === 'true' || value === 1 || value === '1';
}

/**
 * Judge0's attributes as corral's submission. `base64`: source_code, stdin and expected_output
 * come base64 encoded (`?base64_encoded=true`).
 * @throws CorralError invalid_request with `details.fields` (Judge0's 422 body); payload_too_large
 */
export function parseJudge0Submission(
  body: unknown,
  options: { base64: boolean; wait: boolean; config: Judge0Config; limits: SubmissionLimits },
): { submission: Submission; echo: Judge0Echo } {
  const b = (typeof body === 'object' && body !== null && !Array.isArray(body) ? body : {}) as Record<string, unknown>;
  const { config, limits } = options;
  const errors: Judge0FieldErrors = {};
  const add = (field: string, message: string): void => void (errors[field] ??= []).push(message);
  const decoded: Record<'source_code' | 'stdin' | 'expected_output', { bytes: string | null; text: string | null }> = {
    source_code: { bytes: null, text: null },
    stdin: { bytes: null, text: null },
    expected_output: { bytes: null, text: null },
  };
  for (const field of ['source_code', 'stdin', 'expected_output'] as const) {
    const raw = text(b[field]);
    if (raw === null || !options.base64) decoded[field] = { bytes: null, text: raw };
    else decoded[field] = fromBase64(raw) ?? (add(field, 'is not valid base64'), { bytes: null, text: null });
  }
  if (!errors['source_code'] && isBlank(decoded.source_code.text)) add('source_code', "can't be blank");
  const languageValue = numeric(b['language_id']);
  const languageId = typeof languageValue === 'number' ? Math.trunc(languageValue) : null;
  if (isBlank(b['language_id'])) add('language_id', "can't be blank");
  else if (languageId === null || !JUDGE0_LANGUAGE_IDS[languageId]) add('language_id', `language with id ${languageValue === 'NaN' ? 0 : (languageId ?? 0)} doesn't exist`);
  const numbers: Partial<Record<NumericField, number>> = {};
  for (const bound of NUMERIC) {
    const value = numeric(b[bound.field]);
    if (value === null) {
      numbers[bound.field] = config[bound.fallback] as number;
      continue;
    }
    const max = config[bound.max] as number;
    if (value === 'NaN') add(bound.field, 'is not a number');
    else if (bound.minExclusive ? value <= bound.min : value < bound.min) add(bound.field, `must be greater than ${bound.minExclusive ? '' : 'or equal to '}${bound.min}`);
    else if (value > max) add(bound.field, `must be less than or equal to ${ruby(max, bound.float)}`);
    else numbers[bound.field] = value;
  }
  const compilerOptions = text(b['compiler_options']);
  const args = text(b['command_line_arguments']);
  if (compilerOptions !== null && compilerOptions.length > 512) add('compiler_options', 'is too long (maximum is 512 characters)');
  else if (!isBlank(compilerOptions)) add('compiler_options', 'setting compiler options is not allowed');
  if (args !== null && args.length > 512) add('command_line_arguments', 'is too long (maximum is 512 characters)');
  const callback = text(b['callback_url']);
  if (!isBlank(callback) && !config.enable_callbacks) add('callback_url', 'setting callback is not allowed');
  if (!isBlank(b['additional_files'])) add('additional_files', 'setting additional files is not allowed');
  if (flag(b['enable_network'], false)) add('enable_network', 'enabling network is not allowed');
  if (Object.keys(errors).length > 0) throw new CorralError('invalid_request', judge0Summary(errors), { fields: errors });

  const n = numbers as Record<NumericField, number>;
  const language = JUDGE0_LANGUAGE_IDS[languageId as number] as NonNullable<(typeof JUDGE0_LANGUAGE_IDS)[number]>;
  const name = JUDGE0_SOURCE_FILES[language];
  const source = decoded.source_code;
  const stdin = decoded.stdin.text ?? '';
  const wordsOfArgs = args === null ? [] : shellWords(args);
  // isolate's cpu limit 0 is none: here, corral's maximum. The extra time is room before the kill;
  // a run over the limit itself is still Time Limit Exceeded (see the render).
  const cpuMs = n.cpu_time_limit === 0 ? limits.maxCpuMs : Math.min(limits.maxCpuMs, Math.ceil((n.cpu_time_limit + n.cpu_extra_time) * 1000));
  const expected = decoded.expected_output.text;
  const runs = n.number_of_runs;
  const redirect = flag(b['redirect_stderr_to_stdout'], false);
  // With stderr redirected, Judge0 compares both streams: the render compares them, not corral's verdict.
  const judged = redirect ? undefined : (expected ?? undefined);
  const request: Record<string, unknown> = {
    language,
    files: [source.bytes === null ? { name, content: source.text as string } : { name, content: source.bytes, encoding: 'base64' }],
    entry: name,
    stdin,
    args: wordsOfArgs,
    timeoutMs: Math.min(limits.maxTimeoutMs, Math.ceil(n.wall_time_limit * 1000)),
    cpuMs,
    memoryMb: Math.min(limits.maxMemoryMb, Math.max(limits.minMemoryMb, Math.ceil(n.memory_limit / 1024))),
    wait: options.wait,
    ...(expected !== null || runs > 1 ? { tests: Array.from({ length: runs }, () => ({ expected: judged })), stopOnFailure: true, compare: 'trim' } : {}),
    ...(isBlank(callback) ? {} : { callbackUrl: callback }),
  };
  let submission: Submission;
  try {
    submission = parseSubmission(request, limits);
  } catch (err) {
    if (err instanceof CorralError && err.code === 'invalid_request') {
      const fields = { base: (err.details as { problems?: string[] } | undefined)?.problems ?? [err.message] };
      throw new CorralError('invalid_request', judge0Summary(fields), { fields });
    }
    throw err;
  }
  const echo: Judge0Echo = {
    source_code: source.text as string,
    language_id: languageId as number,
    stdin: decoded.stdin.text,
    expected_output: expected,
    ...n,
    enable_per_process_and_thread_time_limit: flag(b['enable_per_process_and_thread_time_limit'], false),
    enable_per_process_and_thread_memory_limit: flag(b['enable_per_process_and_thread_memory_limit'], false),
    compiler_options: compilerOptions,
    command_line_arguments: args,
    redirect_stderr_to_stdout: redirect,
    callback_url: isBlank(callback) ? null : callback,
    enable_network: false,
  };
  return { submission, echo };
}

/** One line saying what the field errors are (the corral side's message; logs, x-corral-error). */
function judge0Summary(errors: Judge0FieldErrors): string {
  return `Invalid submission: ${Object.entries(errors)
    .map(([field, messages]) => `${field} ${messages.join(', ')}`)
    .join('; ')}.`;
}
