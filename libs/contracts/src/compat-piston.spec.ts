import { DEFAULT_EXECUTION_LIMITS, type ExecutionResult } from './api';
import { parsePistonExecute, PISTON_STATUS, pistonAnswer, type PistonRuntime } from './compat-piston';
import { CorralError } from './errors';
import { EXECUTION_STATUSES } from './status';

const JS: PistonRuntime = { language: 'javascript', version: '24.11.1', aliases: ['js'], runtime: 'node' };
const TS: PistonRuntime = { language: 'typescript', version: '24.11.1', aliases: ['ts'], runtime: 'node' };
const resolve = (language: string): PistonRuntime | undefined => ({ javascript: JS, js: JS, typescript: TS, ts: TS })[language];
const parse = (body: unknown) => parsePistonExecute(body, resolve, DEFAULT_EXECUTION_LIMITS);

function result(over: Partial<ExecutionResult>): ExecutionResult {
  return { id: 'x', status: 'ok', exitCode: 0, signal: null, stdout: 'out', stderr: 'err', truncated: false, durationMs: 12, cpuMs: 9, memoryBytes: 4096, ...over };
}

function refusal(body: unknown): string {
  try {
    parse(body);
  } catch (err) {
    expect(err).toBeInstanceOf(CorralError);
    return (err as CorralError).message;
  }
  throw new Error('not refused');
}

describe('the Piston status table', () => {
  it('has a row for every corral status', () => {
    expect(Object.keys(PISTON_STATUS).sort()).toEqual([...EXECUTION_STATUSES].sort());
  });

  it.each([
    [result({}), { status: null, code: 0, signal: null, message: null }],
    [result({ status: 'error', exitCode: 2 }), { status: 'RE', code: 2, signal: null, message: 'Exited with error status 2' }],
    [result({ status: 'error', exitCode: null, signal: 'SIGSEGV' }), { status: 'SG', code: null, signal: 'SIGSEGV', message: 'Caught fatal signal 11' }],
    [result({ status: 'timeout', exitCode: null, signal: 'SIGKILL' }), { status: 'TO', code: null, signal: 'SIGKILL', message: 'Time limit exceeded (wall clock)' }],
    [result({ status: 'cpu_limit', exitCode: null }), { status: 'TO', code: null, signal: 'SIGKILL', message: 'Time limit exceeded' }],
    [result({ status: 'memory_limit', exitCode: null, signal: 'SIGABRT' }), { status: 'SG', code: null, signal: 'SIGABRT', message: 'Caught fatal signal 6' }],
    [result({ status: 'output_limit', stdout: 'x'.repeat(10), stderr: '' }), { status: 'OL', signal: 'SIGKILL', message: 'stdout length exceeded' }],
    [result({ status: 'output_limit', stdout: '', stderr: 'x'.repeat(10) }), { status: 'EL', signal: 'SIGKILL', message: 'stderr length exceeded' }],
  ])('%#: %j', (r, run) => {
    const answer = pistonAnswer(JS, r);
    expect(answer.run).toMatchObject(run);
    expect(answer.run).toMatchObject({ output: r.stdout + r.stderr, cpu_time: 9, wall_time: 12, memory: 4096 });
    expect(answer).toMatchObject({ language: 'javascript', version: '24.11.1' });
  });
});

describe('parsePistonExecute', () => {
  it('maps files, limits and stdin onto a corral job', () => {
    const { job, runtime } = parse({
      language: 'ts',
      version: '*',
      files: [{ content: 'eA==', encoding: 'base64', name: 'x.bin' }, { content: 'console.log(1)' }, { name: 'h', content: '6869', encoding: 'hex' }],
      stdin: 'in',
      args: ['1'],
      run_timeout: 1500.5,
      run_cpu_time: 700,
      run_memory_limit: 64 * 1024 * 1024,
      compile_timeout: 10_000,
      compile_memory_limit: -1,
    });
    expect(runtime).toBe(TS);
    expect(job.language).toBe('typescript');
    expect(job.entry).toBe('file1.code.ts');
    expect(job.files).toEqual([
      { name: 'x.bin', content: 'eA==', encoding: 'base64' },
      { name: 'file1.code.ts', content: 'console.log(1)', encoding: 'utf8' },
      { name: 'h', content: Buffer.from('hi').toString('base64'), encoding: 'base64' },
    ]);
    expect(job).toMatchObject({ stdin: 'in\n', args: ['1'], timeoutMs: 1501, cpuMs: 700, memoryMb: 64 });
  });

  it('run_memory_limit -1 is the default; a tiny one is raised to corral\'s minimum', () => {
    expect(parse({ language: 'js', version: '*', files: [{ content: 'x' }], run_memory_limit: -1 }).job.memoryMb).toBe(DEFAULT_EXECUTION_LIMITS.defaultMemoryMb);
    expect(parse({ language: 'js', version: '*', files: [{ content: 'x' }], run_memory_limit: 1000 }).job.memoryMb).toBe(DEFAULT_EXECUTION_LIMITS.minMemoryMb);
  });

  it('refuses as Piston does', () => {
    expect(refusal([])).toBe('language is required as a string');
    expect(refusal({ language: 'go', version: '1', files: [] })).toBe('go-1 runtime is unknown');
    expect(refusal({ language: 'js', version: '*', files: [{ content: 'x' }], run_memory_limit: 2 * 1024 ** 3 })).toBe(`run_memory_limit cannot exceed the configured limit of ${1024 * 1024 * 1024}`);
    expect(refusal({ language: 'js', version: '*', files: [{ content: 'x' }], compile_timeout: 'soon' })).toBe('If specified, compile_timeout must be a number');
  });
});
