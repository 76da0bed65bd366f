import { DEFAULT_EXECUTION_LIMITS, type ExecutionResult } from './api';
import { JUDGE0_STATUS_OF, JUDGE0_STATUSES, judge0Config, judge0Languages } from './compat-judge0';
import { parseJudge0Submission, shellWords, type Judge0Echo } from './compat-judge0-request';
import { JUDGE0_DEFAULT_FIELDS, JUDGE0_FIELDS, judge0Fields, judge0Render, judge0Strip, rubyBase64, type Judge0View } from './compat-judge0-render';
import { CorralError } from './errors';
import { DEFAULT_SUBMISSION_LIMITS } from './submission';
import { EXECUTION_STATUSES } from './status';

const LIMITS = { ...DEFAULT_EXECUTION_LIMITS, ...DEFAULT_SUBMISSION_LIMITS };
const CONFIG = judge0Config(LIMITS, { maxBatch: 100, maxQueue: 1000, callbacks: false, callbackTries: 5, callbackTimeoutS: 10 });
const LANGUAGES = judge0Languages('24.11.1');
const parse = (body: unknown, base64 = false) => parseJudge0Submission(body, { base64, wait: true, config: CONFIG, limits: LIMITS });

function fieldErrors(body: unknown, base64 = false): unknown {
  try {
    parse(body, base64);
  } catch (err) {
    expect(err).toBeInstanceOf(CorralError);
    return (err as CorralError).details;
  }
  throw new Error('not refused');
}

function run(over: Partial<ExecutionResult>): ExecutionResult {
  return { id: 't', status: 'ok', exitCode: 0, signal: null, stdout: 'hello\n', stderr: '', truncated: false, durationMs: 20, cpuMs: 12, memoryBytes: 40 * 1024 * 1024, ...over };
}

function view(result: ExecutionResult, echo: Partial<Judge0Echo> = {}): Judge0View {
  return { token: 't', state: 'done', createdAt: '2026-01-01T00:00:00.000Z', finishedAt: '2026-01-01T00:00:01.000Z', result, echo: { ...parse({ source_code: 'x', language_id: 63 }).echo, ...echo } };
}

describe('the Judge0 tables', () => {
  it('statuses 1 to 14; a status row for every corral ending', () => {
    expect(JUDGE0_STATUSES.map((s) => s.id)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]);
    expect(Object.keys(JUDGE0_STATUS_OF).sort()).toEqual(['accepted', 'wrong_answer', ...EXECUTION_STATUSES].sort());
  });

  it.each([
    [{ status: 'error', exitCode: 1 }, 11],
    [{ status: 'error', exitCode: null, signal: 'SIGSEGV' }, 7],
    [{ status: 'error', exitCode: null, signal: 'SIGFPE' }, 9],
    [{ status: 'error', exitCode: null, signal: 'SIGABRT' }, 10],
    [{ status: 'error', exitCode: null, signal: 'SIGTERM' }, 12],
    [{ status: 'memory_limit', exitCode: null, signal: null }, 12],
    [{ status: 'timeout', exitCode: null, signal: 'SIGKILL' }, 5],
    [{ status: 'cpu_limit', exitCode: null, signal: 'SIGKILL' }, 5],
    [{ status: 'output_limit', exitCode: null, signal: 'SIGKILL' }, 8],
  ] as const)('%j → status %d', (over, id) => {
    expect((judge0Render(view(run(over)), ['status'], false, LANGUAGES)['status'] as { id: number }).id).toBe(id);
  });

  it('languages at Judge0\'s ids, named with the runtime version', () => {
    expect(LANGUAGES.map((l) => [l.id, l.name])).toEqual([
      [63, 'JavaScript (Node.js 24.11.1)'],
      [74, 'TypeScript (Node.js 24.11.1, types stripped)'],
      [93, 'JavaScript (Node.js 24.11.1)'],
      [94, 'TypeScript (Node.js 24.11.1, types stripped)'],
    ]);
  });

  it('config_info in Judge0\'s units: seconds, KB', () => {
    expect(CONFIG).toMatchObject({ cpu_time_limit: 5, max_cpu_time_limit: 60, wall_time_limit: 5, max_wall_time_limit: 60, memory_limit: 131072, max_memory_limit: 1048576, callbacks_max_tries: 5 });
  });
});

describe('parseJudge0Submission', () => {
  it('maps limits in seconds and KB, arguments as bash splits them, expected output as a test per run', () => {
    const { submission, echo } = parse({ source_code: 'x', language_id: 74, cpu_time_limit: 1, cpu_extra_time: 0.5, wall_time_limit: '2.5', memory_limit: 65536, command_line_arguments: 'a "b c" \'d\'', expected_output: 'y', number_of_runs: 3 });
    expect(submission.job).toMatchObject({ language: 'typescript', entry: 'script.ts', timeoutMs: 2500, cpuMs: 1500, memoryMb: 64, args: ['a', 'b c', 'd'] });
    expect(submission.tests).toHaveLength(3);
    expect(submission.tests?.[0]).toMatchObject({ expected: 'y' });
    expect(submission).toMatchObject({ stopOnFailure: true, compare: 'trim', wait: true });
    expect(echo).toMatchObject({ language_id: 74, number_of_runs: 3, wall_time_limit: 2.5, memory_limit: 65536, stack_limit: 64000 });
  });

  it('base64 source is handed over as bytes; stdin decoded', () => {
    const { submission } = parse({ source_code: Buffer.from('console.log(1)').toString('base64'), language_id: 63, stdin: 'aGk=\n' }, true);
    expect(submission.job.files[0]).toEqual({ name: 'script.js', content: Buffer.from('console.log(1)').toString('base64'), encoding: 'base64' });
    expect(submission.job.stdin).toBe('hi');
    expect(submission.tests).toBeNull();
  });

  it('refuses with Judge0\'s field errors', () => {
    expect(fieldErrors({ source_code: '  ' })).toEqual({ fields: { source_code: ["can't be blank"], language_id: ["can't be blank"] } });
    expect(fieldErrors({ source_code: 'x', language_id: 63, cpu_time_limit: 61, stack_limit: -1, max_processes_and_or_threads: 0 })).toEqual({
      fields: { cpu_time_limit: ['must be less than or equal to 60.0'], stack_limit: ['must be greater than or equal to 0'], max_processes_and_or_threads: ['must be greater than 0'] },
    });
    expect(fieldErrors({ source_code: 'x', language_id: 63, callback_url: 'http://127.0.0.1/', additional_files: 'UEs=', compiler_options: '-O2' })).toEqual({
      fields: { callback_url: ['setting callback is not allowed'], additional_files: ['setting additional files is not allowed'], compiler_options: ['setting compiler options is not allowed'] },
    });
    expect(fieldErrors({ source_code: '%%%', language_id: 63, expected_output: 'eQ' }, true)).toEqual({ fields: { source_code: ['is not valid base64'] } });
  });

  it('shellWords drops what Judge0 drops and groups quotes', () => {
    expect(shellWords(`one 'two three' "four \\"five\\"" six\\ seven; rm -rf $HOME`)).toEqual(['one', 'two three', 'four "five"', 'six seven', 'rm', '-rf', 'HOME']);
  });
});

describe('judge0Render', () => {
  it('default fields; base64 as Ruby encodes it (lines of 60, a newline at the end)', () => {
    const rendered = judge0Render(view(run({})), JUDGE0_DEFAULT_FIELDS, false, LANGUAGES);
    expect(rendered).toEqual({ stdout: 'hello\n', time: '0.012', memory: 40960, stderr: null, token: 't', compile_output: null, message: null, status: { id: 3, description: 'Accepted' } });
    expect(rubyBase64('hello, Judge0\n')).toBe('aGVsbG8sIEp1ZGdlMAo=\n');
    expect(rubyBase64('x'.repeat(50))).toBe(`${'eHh4'.repeat(15)}\n${'eHh4'.repeat(1)}eHg=\n`);
    expect(judge0Render(view(run({})), ['stdout', 'message'], true, LANGUAGES)).toEqual({ stdout: 'aGVsbG8K\n', message: null });
  });

  it('Judge0\'s own rules: expected output compared with trailing whitespace dropped; over the cpu limit is TLE; stderr redirected', () => {
    const status = (r: ExecutionResult, echo: Partial<Judge0Echo>): unknown => judge0Render(view(r, echo), ['status'], false, LANGUAGES)['status'];
    expect(status(run({ stdout: 'a  \nb\n\n' }), { expected_output: 'a\nb' })).toEqual({ id: 3, description: 'Accepted' });
    expect(status(run({ stdout: 'a\nc\n' }), { expected_output: 'a\nb' })).toEqual({ id: 4, description: 'Wrong Answer' });
    expect(status(run({ cpuMs: 1200 }), { cpu_time_limit: 1 })).toEqual({ id: 5, description: 'Time Limit Exceeded' });
    expect(judge0Render(view(run({ stdout: 'o\n', stderr: 'e\n' }), { redirect_stderr_to_stdout: true }), ['stdout', 'stderr'], false, LANGUAGES)).toEqual({ stdout: 'o\ne\n', stderr: null });
    expect(judge0Strip('x \t\n\n')).toBe('x');
  });

  it('number_of_runs: time and memory averaged, the last run\'s output; a queued submission is In Queue', () => {
    const tests = {
      id: 't',
      summary: { total: 2, accepted: 2, failed: 0, skipped: 0, status: 'accepted' as const },
      tests: [
        { index: 0, ...run({ cpuMs: 10, memoryBytes: 1024 * 1000 }), status: 'accepted' as const },
        { index: 1, ...run({ cpuMs: 20, memoryBytes: 1024 * 2000, stdout: 'last\n' }), status: 'accepted' as const },
      ],
    };
    const v: Judge0View = { ...view(run({})), result: tests };
    expect(judge0Render(v, ['time', 'memory', 'stdout'], false, LANGUAGES)).toEqual({ time: '0.015', memory: 1500, stdout: 'last\n' });
    expect(judge0Render({ ...v, state: 'queued', result: undefined as never }, ['status', 'stdout'], false, LANGUAGES)).toEqual({ status: { id: 1, description: 'In Queue' }, stdout: null });
  });

  it('fields: * is every attribute; unknown ones are named', () => {
    expect(judge0Fields('*')).toEqual({ fields: JUDGE0_FIELDS });
    expect(judge0Fields(undefined)).toEqual({ fields: JUDGE0_DEFAULT_FIELDS });
    expect(judge0Fields('stdout, stderr')).toEqual({ invalid: [' stderr'] });
    expect(Object.keys(judge0Render(view(run({})), JUDGE0_FIELDS, false, LANGUAGES))).toEqual([...JUDGE0_FIELDS]);
  });
});
