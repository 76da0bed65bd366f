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
      code: 'console.log(1)',
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
    expect(job).toEqual({ code: 'x', stdin: 'in', args: ['a', 'b'], timeoutMs: 1000, cpuMs: 500, memoryMb: 64 });
  });

  it.each([
    [null, 'must be a JSON object'],
    [[1], 'must be a JSON object'],
    ['code', 'must be a JSON object'],
    [{}, 'code is required'],
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
    expect(err.message).toContain(`unknown fields "k0${'x'.repeat(38)}…", "k1", "k2", "k3", "k4" and 249995 more (allowed: code,`);
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
