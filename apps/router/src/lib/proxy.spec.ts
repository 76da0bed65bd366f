import { classifyProxyError, classifyWorkerAnswer } from './proxy';

describe('classifyWorkerAnswer', () => {
  it('passes results and errors about the job itself on to the client', () => {
    expect(classifyWorkerAnswer(200, undefined)).toBeNull();
    expect(classifyWorkerAnswer(400, 'invalid_request')).toBeNull();
    expect(classifyWorkerAnswer(413, 'payload_too_large')).toBeNull();
    expect(classifyWorkerAnswer(500, 'internal')).toBeNull();
  });

  it.each([
    ['bad_token', 403, false],
    ['slot_busy', 409, false],
    ['shutting_down', 503, true],
    ['unavailable', 503, true],
    ['not_found', 404, true],
  ] as const)('knows %s (%i) as "not started", the slot dead: %s', (code, status, slotDead) => {
    expect(classifyWorkerAnswer(status, code)).toEqual({ kind: 'not_started', slotDead, reason: `worker answered ${code}` });
  });

  it('goes by the code, not the status', () => {
    expect(classifyWorkerAnswer(503, 'internal')).toBeNull();
    expect(classifyWorkerAnswer(500, 'bad_token')).toMatchObject({ kind: 'not_started', slotDead: false });
  });

  it('takes an error answer without a catalogue code for a failure after the hand-over (the registry settles it)', () => {
    expect(classifyWorkerAnswer(403, undefined)).toEqual({ kind: 'failed', reason: 'worker answered 403 without an error code' });
    expect(classifyWorkerAnswer(502, 'no-such-code')).toEqual({ kind: 'failed', reason: 'worker answered 502 without an error code' });
  });
});

describe('classifyProxyError', () => {
  it('retries only when the connection never reached a worker', () => {
    expect(classifyProxyError(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }))).toEqual({ kind: 'not_started', slotDead: true, reason: 'ECONNREFUSED' });
    expect(classifyProxyError(Object.assign(new Error('x'), { code: 'ECONNRESET' }))).toEqual({ kind: 'failed', reason: 'ECONNRESET' });
    expect(classifyProxyError(undefined)).toEqual({ kind: 'failed', reason: 'EUNKNOWN' });
  });
});
