import { CorralError } from '@corral/contracts';
import { RegistryUnavailableError } from '@corral/registry';
import { errorAnswer, outcomeAnswer, outcomeLabel } from './answers';
import type { DispatchOutcome } from './dispatch';

const refusals: DispatchOutcome[] = [
  { kind: 'rate_limited', keyName: 'alice', ratePerMinute: 10, retryAfterMs: 1500 },
  { kind: 'concurrency_limited', keyName: 'alice', maxConcurrent: 2 },
  { kind: 'queue_full', message: 'full' },
  { kind: 'no_capacity', waitedMs: 10_000 },
  { kind: 'shutting_down' },
  { kind: 'unavailable', cause: 'registry' },
  { kind: 'unavailable', cause: 'retries', attempts: 4 },
  { kind: 'worker_failed', slotId: 'h:0', reason: 'ECONNRESET' },
];

describe('answers', () => {
  it.each(refusals.map((o) => [o.kind, o] as const))('%s is answered and counted by its own catalogue code', (kind, outcome) => {
    expect(outcomeAnswer(outcome)?.code).toBe(kind);
    expect(outcomeLabel(outcome)).toBe(kind);
  });

  it('says when to come back', () => {
    expect(outcomeAnswer(refusals[0]!)?.headers).toEqual({ 'retry-after': '2' });
    expect(outcomeAnswer({ kind: 'unavailable', cause: 'retries', attempts: 4 })).toMatchObject({
      message: '4 slots in a row could not take the job; try again later.',
      headers: { 'retry-after': '1' },
    });
  });

  it('answers nothing more once the worker answered or the client left; counts the execution status', () => {
    const answered: DispatchOutcome = { kind: 'answered', slotId: 'h:0', attempt: 0, httpStatus: 200, executionStatus: 'timeout' };
    expect(outcomeAnswer(answered)).toBeNull();
    expect(outcomeLabel(answered)).toBe('timeout');
    expect(outcomeLabel({ ...answered, httpStatus: 400, executionStatus: undefined })).toBe('400');
    expect(outcomeAnswer({ kind: 'client_gone' })).toBeNull();
    expect(outcomeLabel({ kind: 'client_gone' })).toBeNull();
  });

  it('turns thrown errors into answers: catalogue (with its details), unreachable registry, anything else', () => {
    const logged: object[] = [];
    const log = { error: (fields: object) => void logged.push(fields) };
    expect(errorAnswer(new CorralError('unauthorized'), log)).toMatchObject({ code: 'unauthorized', headers: { 'www-authenticate': 'Bearer' } });
    expect(errorAnswer(new CorralError('invalid_request', 'no', { problems: ['x'] }), log)).toEqual({ code: 'invalid_request', message: 'no', details: { problems: ['x'] } });
    expect(errorAnswer(new RegistryUnavailableError('down'), log)).toMatchObject({ code: 'unavailable', headers: { 'retry-after': '1' } });
    expect(logged).toEqual([]);
    expect(errorAnswer(new Error('a bug'), log)).toEqual({ code: 'internal' });
    expect(logged).toHaveLength(1);
  });
});
