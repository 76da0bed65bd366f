import { CorralError, ERROR_CATALOGUE, errorBody, isErrorCode, MAX_DETAILS_CHARS, MAX_MESSAGE_CHARS, type ErrorCode } from './errors';

describe('error catalogue', () => {
  const codes = Object.keys(ERROR_CATALOGUE) as ErrorCode[];

  it.each(codes)('%s has an HTTP error status and a sentence', (code) => {
    const entry = ERROR_CATALOGUE[code];
    expect(entry.httpStatus).toBeGreaterThanOrEqual(400);
    expect(entry.httpStatus).toBeLessThan(600);
    expect(entry.message).toMatch(/^[A-Z].*\.$/);
  });

  it('builds the JSON error body clients receive', () => {
    expect(errorBody('queue_full')).toEqual({ error: { code: 'queue_full', message: ERROR_CATALOGUE.queue_full.message } });
    const err = new CorralError('invalid_request', 'nope', { problems: ['x'] });
    expect(err.toBody()).toEqual({ error: { code: 'invalid_request', message: 'nope', details: { problems: ['x'] } } });
    expect(err.httpStatus).toBe(400);
  });

  it.each(codes)('%s: its body is bounded whatever its message and details hold', (code) => {
    const body = new CorralError(code, 'm'.repeat(10 * MAX_MESSAGE_CHARS), { problems: ['p'.repeat(10 * MAX_DETAILS_CHARS)] }).toBody();
    expect(body.error.code).toBe(code);
    expect(body.error.message).toHaveLength(MAX_MESSAGE_CHARS + 1);
    expect(body.error.details).toBeUndefined();
    expect(JSON.stringify(body).length).toBeLessThan(MAX_MESSAGE_CHARS + 200);
    expect(new CorralError(code, 'short', { problems: ['x'] }).toBody().error).toEqual({ code, message: 'short', details: { problems: ['x'] } });
  });

  it('recognises its own codes only', () => {
    expect(isErrorCode('no_capacity')).toBe(true);
    expect(isErrorCode('toString')).toBe(false);
    expect(isErrorCode(42)).toBe(false);
  });
});
