import { CorralClientError, errorFromAnswer, parseRetryAfter } from './errors';

const headers = (values: Record<string, string>) => ({ get: (name: string) => values[name] ?? null });

describe('parseRetryAfter', () => {
  it('reads delta-seconds as ms', () => {
    expect(parseRetryAfter('1')).toBe(1000);
    expect(parseRetryAfter(' 120 ')).toBe(120_000);
    expect(parseRetryAfter('0')).toBe(0);
  });

  it('reads an HTTP date relative to now, never below 0', () => {
    const now = Date.parse('Wed, 25 Nov 2026 22:08:00 GMT');
    expect(parseRetryAfter('Wed, 25 Nov 2026 22:08:03 GMT', now)).toBe(3000);
    expect(parseRetryAfter('Wed, 25 Nov 2026 22:07:00 GMT', now)).toBe(0);
  });

  it('is null when absent or unreadable', () => {
    expect(parseRetryAfter(null)).toBeNull();
    expect(parseRetryAfter('soon')).toBeNull();
    expect(parseRetryAfter('-1')).toBeNull();
  });
});

describe('errorFromAnswer', () => {
  it("carries the catalogue code, the router's message and details, the HTTP status, Retry-After and the request id", () => {
    const response = {
      status: 400,
      headers: headers({ 'x-request-id': 'req-7', 'retry-after': '2' }),
      body: { error: { code: 'invalid_request', message: 'Invalid request: code is required.', details: { problems: ['code is required'] } } },
    };
    const err = errorFromAnswer(response);
    expect(err).toBeInstanceOf(CorralClientError);
    expect(err).toBeInstanceOf(Error);
    expect(err).toMatchObject({
      name: 'CorralClientError',
      code: 'invalid_request',
      message: 'Invalid request: code is required.',
      httpStatus: 400,
      retryAfterMs: 2000,
      requestId: 'req-7',
      details: { problems: ['code is required'] },
    });
    expect(err.response).toBe(response);
  });

  it('calls an answer without a corral error body invalid_response, keeping its status and the start of its text', () => {
    const err = errorFromAnswer({ status: 502, headers: headers({}), body: '<html>Bad Gateway</html>' });
    expect(err).toMatchObject({ code: 'invalid_response', httpStatus: 502, retryAfterMs: null, requestId: null });
    expect(err.message).toBe('HTTP 502 without a corral error body: <html>Bad Gateway</html>');
    expect(errorFromAnswer({ status: 500, headers: headers({}), body: { error: 'boom' } }).code).toBe('invalid_response');
  });
});

describe('CorralClientError', () => {
  it('has no HTTP status when there was no answer, and keeps its cause', () => {
    const cause = new Error('ECONNREFUSED');
    const err = new CorralClientError('network_error', 'GET http://127.0.0.1:1/healthz: fetch failed', { cause });
    expect(err).toMatchObject({ httpStatus: null, response: null, retryAfterMs: null });
    expect(err.cause).toBe(cause);
  });
});
