import { CorralError } from './errors';
import { closeCodeFor, parseClientMessage, parseControlLine } from './stream';

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (err) {
    return err instanceof CorralError ? err.code : 'not a CorralError';
  }
  return undefined;
}

describe('the streaming protocol', () => {
  it('reads each client message, the start with the request apart', () => {
    expect(parseClientMessage('{"type":"start","code":"1","includeOutput":true}')).toEqual({ type: 'start', request: { code: '1' }, includeOutput: true });
    expect(parseClientMessage('{"type":"start","code":"1"}')).toMatchObject({ includeOutput: false });
    expect(parseClientMessage('{"type":"stdin","data":"x\\n"}')).toEqual({ type: 'stdin', data: 'x\n' });
    expect(parseClientMessage('{"type":"stdin_end"}')).toEqual({ type: 'stdin_end' });
    expect(parseClientMessage('{"type":"signal","signal":"SIGTERM"}')).toEqual({ type: 'signal', signal: 'SIGTERM' });
  });

  it.each([
    ['not json', 'stream_protocol'],
    ['[1]', 'stream_protocol'],
    ['null', 'stream_protocol'],
    ['{"type":"launch"}', 'stream_protocol'],
    ['{"type":"stdin","data":5}', 'stream_protocol'],
    ['{"type":"start","includeOutput":"yes"}', 'stream_protocol'],
    ['{"type":"signal","signal":"SIGKILL"}', 'stream_unknown_signal'],
    ['{"type":"signal"}', 'stream_unknown_signal'],
  ])('refuses %s with %s', (text, code) => {
    expect(codeOf(() => parseClientMessage(text))).toBe(code);
  });

  it('a control line is never a start', () => {
    expect(codeOf(() => parseControlLine('{"type":"start"}'))).toBe('stream_already_started');
    expect(parseControlLine('{"type":"stdin_end"}')).toEqual({ type: 'stdin_end' });
  });

  it('maps error codes to the documented close codes', () => {
    expect(closeCodeFor('stream_frame_too_large')).toBe(1009);
    expect(closeCodeFor('stream_protocol')).toBe(1008);
    expect(closeCodeFor('stream_not_started')).toBe(1008);
    expect(closeCodeFor('invalid_request')).toBe(1008);
    expect(closeCodeFor('no_capacity')).toBe(1013);
    expect(closeCodeFor('concurrency_limited')).toBe(1013);
    expect(closeCodeFor('worker_failed')).toBe(1011);
  });
});
