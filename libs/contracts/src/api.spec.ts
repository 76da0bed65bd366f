import { DEFAULT_EXECUTION_LIMITS as limits, parseExecutionRequest } from './api';
import { CorralError } from './errors';

function rejection(body: unknown): CorralError {
  try {
    parseExecutionRequest(body, limits);
  } catch (err) {
    if (err instanceof CorralError) return err;
    throw err;
  }
  throw new Error('expected a rejection');
}

describe('parseExecutionRequest', () => {
  it('applies defaults to a minimal request', () => {
    expect(parseExecutionRequest({ code: 'console.log(1)' }, limits)).toEqual({
      language: 'javascript',
      files: [{ name: 'main.js', content: 'console.log(1)', encoding: 'utf8' }],
      entry: 'main.js',
      collect: [],
      stdin: '',
      args: [],
      timeoutMs: limits.defaultTimeoutMs,
      cpuMs: limits.defaultTimeoutMs,
      memoryMb: limits.defaultMemoryMb,
    });
  });

  it('keeps every field it is given', () => {
    const job = parseExecutionRequest(
      { code: 'x', stdin: 'in', args: ['a', 'b'], timeoutMs: 1000, cpuMs: 500, memoryMb: 64 },
      limits,
    );
    expect(job).toEqual({
      language: 'javascript',
      files: [{ name: 'main.js', content: 'x', encoding: 'utf8' }],
      entry: 'main.js',
      collect: [],
      stdin: 'in',
      args: ['a', 'b'],
      timeoutMs: 1000,
      cpuMs: 500,
      memoryMb: 64,
    });
  });

  it.each([
    [null, 'must be a JSON object'],
    [[1], 'must be a JSON object'],
    ['code', 'must be a JSON object'],
    [{}, 'code (or files) is required'],
    [{ code: 1 }, 'code must be a string'],
    [{ code: '' }, 'code must not be empty'],
    [{ code: 'x', stdin: 5 }, 'stdin must be a string'],
    [{ code: 'x', args: 'a' }, 'args must be an array of strings'],
    [{ code: 'x', args: [1] }, 'args must be an array of strings'],
    [{ code: 'x', args: ['a\0b'] }, 'hold no NUL'],
    [{ code: 'x', timeoutMs: 0 }, 'timeoutMs must be between'],
    [{ code: 'x', timeoutMs: 1.5 }, 'timeoutMs must be an integer'],
    [{ code: 'x', cpuMs: '100' }, 'cpuMs must be an integer'],
    [{ code: 'x', memoryMb: 4 }, 'memoryMb must be between'],
    [{ code: 'x', timeout: 100 }, 'unknown field "timeout"'],
  ])('rejects %j with a clear message', (body, message) => {
    const err = rejection(body);
    expect(err.code).toBe('invalid_request');
    expect(err.httpStatus).toBe(400);
    expect(err.message).toContain(message);
  });

  it('lists every problem at once', () => {
    const err = rejection({ code: 1, stdin: 2, memoryMb: 1e9 });
    expect(err.details).toEqual({ problems: expect.arrayContaining([expect.stringContaining('code'), expect.stringContaining('stdin'), expect.stringContaining('memoryMb')]) });
  });

  it('names a few unknown fields, shortened, and counts the rest: the message stays small whatever was sent', () => {
    const body: Record<string, unknown> = { code: 'x' };
    for (let i = 0; i < 250_000; i += 1) body[`k${i}`.padEnd(i === 0 ? 100 : 1, 'x')] = i;
    const err = rejection(body);
    expect(err.message).toContain(`unknown fields "k0${'x'.repeat(38)}…", "k1", "k2", "k3", "k4" and 249995 more (allowed: language, code,`);
    expect(err.message.length).toBeLessThan(300);
    expect(JSON.stringify(err.toBody()).length).toBeLessThan(1000);
    expect(rejection({ code: 'x', a: 1, b: 2 }).message).toContain('unknown fields "a", "b" (allowed');
  });

  it('answers 413 for code or stdin over their limits', () => {
    const big = 'x'.repeat(limits.maxCodeBytes + 1);
    expect(rejection({ code: big }).httpStatus).toBe(413);
    expect(rejection({ code: 'x', stdin: 'y'.repeat(limits.maxStdinBytes + 1) }).code).toBe('payload_too_large');
  });

  it('counts bytes, not characters', () => {
    const small = { ...limits, maxCodeBytes: 4 };
    expect(() => parseExecutionRequest({ code: 'ééé' }, small)).toThrow(/6 bytes/);
  });
});

describe('programs: language, files, entry, collect', () => {
  it('runs code as main.ts with language typescript (or an alias)', () => {
    for (const language of ['typescript', 'ts', 'TS']) {
      expect(parseExecutionRequest({ language, code: 'let n: number = 1' }, limits)).toMatchObject({
        language: 'typescript',
        files: [{ name: 'main.ts', content: 'let n: number = 1' }],
        entry: 'main.ts',
      });
    }
  });

  it('takes a tree of files; the entry is the first file unless named; collect globs are kept', () => {
    const job = parseExecutionRequest(
      {
        files: [
          { name: 'src/index.mjs', content: 'import "./lib.mjs"' },
          { name: 'src/lib.mjs', content: 'export {}' },
          { name: 'data/in.bin', content: 'AAEC', encoding: 'base64' },
        ],
        collect: ['out/*.csv', '**/*.json'],
      },
      limits,
    );
    expect(job).toMatchObject({ entry: 'src/index.mjs', collect: ['out/*.csv', '**/*.json'] });
    expect(job.files).toHaveLength(3);
    expect(parseExecutionRequest({ files: [{ name: 'a.js', content: '' }, { name: 'b.ts', content: '' }], entry: 'b.ts' }, limits).entry).toBe('b.ts');
  });

  it.each([
    [{ files: [{ name: '../x.js', content: '' }] }, 'has a ".." segment'],
    [{ files: [{ name: '/etc/x.js', content: '' }] }, 'is absolute'],
    [{ files: [{ name: 'a/../../b.js', content: '' }] }, 'has a ".." segment'],
    [{ files: [{ name: 'a\u0000b.js', content: '' }] }, 'holds a control character'],
    [{ files: [{ name: 'a\nb.js', content: '' }] }, 'holds a control character'],
    [{ files: [{ name: 'a//b.js', content: '' }] }, 'has an empty segment'],
    [{ files: [{ name: 'a.js', content: '' }, { name: 'a.js', content: '' }] }, 'is there twice'],
    [{ files: [{ name: 'a.js', content: '' }], entry: 'b.js' }, 'is not among the files'],
    [{ files: [{ name: 'data.txt', content: '' }] }, 'entry must end in'],
    [{ files: [{ name: 'a.js', content: 'not base64!', encoding: 'base64' }] }, 'is not valid base64'],
    [{ files: [{ name: 'a.js', content: '', encoding: 'latin1' }] }, 'encoding must be'],
    [{ files: [] }, 'files must be a non-empty array'],
    [{ files: 'main.js' }, 'files must be a non-empty array'],
    [{ code: 'x', files: [{ name: 'a.js', content: '' }] }, 'send code or files, not both'],
    [{ code: 'x', entry: 'main.js' }, 'entry goes with files'],
    [{ code: 'x', collect: ['../out/*'] }, 'must stay inside the working directory'],
    [{ code: 'x', collect: ['/etc/*'] }, 'must stay inside the working directory'],
    [{ code: 'x', collect: 'out/*' }, 'collect must be an array'],
    [{ code: 'x', language: 'python' }, 'language must be one of javascript, typescript'],
    [{ code: 'x', language: 3 }, 'language must be one of'],
  ])('refuses %j with 400 invalid_request: %s', (body, expected) => {
    const err = rejection(body);
    expect(err.code).toBe('invalid_request');
    expect(err.message).toContain(expected);
  });

  it('refuses more files or bytes than the limits with 413', () => {
    const many = Array.from({ length: limits.maxFiles + 1 }, (_, i) => ({ name: `f${i}.js`, content: '' }));
    expect(rejection({ files: many }).code).toBe('payload_too_large');
    const big = [{ name: 'a.js', content: 'x'.repeat(limits.maxFilesBytes + 1) }];
    expect(rejection({ files: big }).code).toBe('payload_too_large');
    const bigBase64 = [{ name: 'a.js', content: 'AAAA'.repeat(Math.ceil(limits.maxFilesBytes / 3) + 1), encoding: 'base64' }];
    expect(rejection({ files: bigBase64 }).code).toBe('payload_too_large');
  });
});
