import { DEFAULT_EXECUTION_LIMITS } from './api';
import { CorralError } from './errors';
import { DEFAULT_SUBMISSION_LIMITS, executionCount, parseSubmission, testJob, type SubmissionLimits } from './submission';
import { outputMatches, summarizeTests, testStatus, type TestResult } from './verdicts';

const LIMITS: SubmissionLimits = { ...DEFAULT_EXECUTION_LIMITS, ...DEFAULT_SUBMISSION_LIMITS, maxTests: 5 };

function refusal(body: unknown): { code: string; message: string } {
  try {
    parseSubmission(body, LIMITS);
  } catch (err) {
    if (err instanceof CorralError) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error('accepted');
}

describe('comparing outputs', () => {
  it('exact: byte for byte', () => {
    expect(outputMatches('1 2\n', '1 2\n', 'exact')).toBe(true);
    expect(outputMatches('1 2\n', '1 2', 'exact')).toBe(false);
  });

  it('trim: trailing whitespace per line and trailing empty lines ignored, CRLF too; leading whitespace counts', () => {
    expect(outputMatches('1 2  \r\n3\n\n\n', '1 2\n3', 'trim')).toBe(true);
    expect(outputMatches(' 1 2\n', '1 2\n', 'trim')).toBe(false);
    expect(outputMatches('1\n\n2\n', '1\n2\n', 'trim')).toBe(false);
    expect(outputMatches('', '\n\n', 'trim')).toBe(true);
  });

  it('tokens: any whitespace between the same tokens', () => {
    expect(outputMatches('1   2\n\t3 ', '1 2 3', 'tokens')).toBe(true);
    expect(outputMatches('1 2 3 4', '1 2 3', 'tokens')).toBe(false);
  });

  it('float: numbers within the tolerance, absolute or relative; other tokens exactly', () => {
    expect(outputMatches('0.3333333 x', '0.33333333 x', { float: 1e-6 })).toBe(true);
    expect(outputMatches('0.334', '0.333', { float: 1e-6 })).toBe(false);
    expect(outputMatches('1000000.5', '1000000', { float: 1e-6 })).toBe(true);
    expect(outputMatches('1e3 y', '1000 x', { float: 1e-6 })).toBe(false);
    expect(outputMatches('NaN', 'NaN', { float: 1e-6 })).toBe(true);
    expect(outputMatches('Infinity', '1e400', { float: 1e-6 })).toBe(false);
  });
});

describe('verdicts', () => {
  const ran = (stdout: string, status: 'ok' | 'error' = 'ok', truncated = false) => ({ status, stdout, truncated });

  it('accepted, wrong answer, the run status when it did not end ok, the run status without expected', () => {
    expect(testStatus(ran('42\n'), '42', 'trim')).toBe('accepted');
    expect(testStatus(ran('41\n'), '42', 'trim')).toBe('wrong_answer');
    expect(testStatus(ran('42\n', 'error'), '42', 'trim')).toBe('error');
    expect(testStatus(ran('x', 'error'), null, 'trim')).toBe('error');
    expect(testStatus(ran('x'), null, 'trim')).toBe('ok');
    expect(testStatus(ran('42', 'ok', true), '42', 'exact')).toBe('wrong_answer');
  });

  it('the summary: counts, and the first failing test by index', () => {
    const results = [
      { index: 2, status: 'skipped' },
      { index: 1, status: 'wrong_answer' },
      { index: 0, status: 'ok' },
    ] as TestResult[];
    expect(summarizeTests(results)).toEqual({ total: 3, accepted: 1, failed: 1, skipped: 1, status: 'wrong_answer' });
    expect(summarizeTests([{ index: 0, status: 'accepted' } as TestResult])).toEqual({ total: 1, accepted: 1, failed: 0, skipped: 0, status: 'accepted' });
  });
});

describe('parseSubmission', () => {
  it('a plain execution: waits, no tests, trim', () => {
    const s = parseSubmission({ code: 'console.log(1)' }, LIMITS);
    expect(s).toMatchObject({ tests: null, compare: 'trim', stopOnFailure: false, wait: true, callbackUrl: null });
    expect(s.job.files[0]?.content).toBe('console.log(1)');
    expect(executionCount(s)).toBe(1);
  });

  it('tests take the submission stdin and args unless they have their own', () => {
    const s = parseSubmission({ code: 'x', stdin: 'top', args: ['a'], tests: [{ expected: '1' }, { stdin: 'own', args: [] }], compare: { float: 0.01 } }, LIMITS);
    expect(s.tests).toEqual([
      { stdin: 'top', args: ['a'], expected: '1' },
      { stdin: 'own', args: [], expected: null },
    ]);
    expect(testJob(s.job, s.tests![1]!)).toMatchObject({ stdin: 'own', args: [] });
    expect(executionCount(s)).toBe(2);
    expect(s.compare).toEqual({ float: 0.01 });
  });

  it('async with a callback', () => {
    const s = parseSubmission({ code: 'x', wait: false, callbackUrl: 'http://127.0.0.1:9/hook' }, LIMITS);
    expect(s).toMatchObject({ wait: false, callbackUrl: 'http://127.0.0.1:9/hook' });
  });

  it.each([
    [{ code: 'x', tests: [] }, /tests must be a non-empty array/],
    [{ code: 'x', tests: [{ stdin: 1 }] }, /tests\[0\]\.stdin must be a string/],
    [{ code: 'x', tests: [{ expected: 'a', output: 'b' }] }, /tests\[0\] has unknown fields/],
    [{ code: 'x', compare: 'fuzzy' }, /compare must be one of "exact", "trim", "tokens" or \{ "float": tolerance \}/],
    [{ code: 'x', compare: { float: -1 } }, /compare\.float must be a finite positive number/],
    [{ code: 'x', compare: { float: 'a' } }, /compare\.float must be a finite positive number/],
    [{ code: 'x', compare: { float: 1, extra: 1 } }, /compare must be one of/],
    [{ code: 'x', wait: 'no' }, /wait must be true or false/],
    [{ code: 'x', stopOnFailure: 1 }, /stopOnFailure must be true or false/],
    [{ code: 'x', callbackUrl: 'ftp://127.0.0.1/x' }, /callbackUrl must be http or https/],
    [{ code: 'x', callbackUrl: 'not a url' }, /callbackUrl is not a URL/],
    [{ code: 'x', callbackUrl: 'http://u:p@127.0.0.1/' }, /must not hold credentials/],
    [{ code: 'x', callbackUrl: 5 }, /callbackUrl must be an http\(s\) URL/],
    [{ wait: 'no' }, /code \(or files\) is required; wait must be true or false/],
    [{ code: 'x', tset: [] }, /unknown field "tset" \(allowed: .*tests, compare, stopOnFailure, wait, callbackUrl\)/],
  ])('refuses %j', (body, message) => {
    const r = refusal(body);
    expect(r.code).toBe('invalid_request');
    expect(r.message).toMatch(message);
  });

  it('more tests than the limit, or a test input over the stdin limit: 413', () => {
    expect(refusal({ code: 'x', tests: Array.from({ length: 6 }, () => ({})) })).toMatchObject({ code: 'payload_too_large', message: '6 tests; the limit is 5.' });
    expect(refusal({ code: 'x', tests: [{ expected: 'x'.repeat(LIMITS.maxStdinBytes + 1) }] }).code).toBe('payload_too_large');
  });
});
