import { DEFAULT_EXECUTION_LIMITS } from './api';
import { ERROR_CATALOGUE, type ErrorCode } from './errors';
import { openApiDocument } from './openapi';
import { STREAM_SESSION_CODES } from './openapi-stream';

/** Codes only a worker answers (to a router), or only other endpoints do. */
const NOT_AN_EXECUTION_ANSWER: ErrorCode[] = ['bad_token', 'slot_busy', 'not_found', 'method_not_allowed', 'invalid_id'];

describe('the OpenAPI document', () => {
  const doc = openApiDocument(DEFAULT_EXECUTION_LIMITS, { version: '0.0.0', apiKeys: false }) as {
    paths: Record<string, { post?: { responses: Record<string, { description: string }> } }>;
  };
  const responses = doc.paths['/v1/executions']!.post!.responses;

  it.each((Object.keys(ERROR_CATALOGUE) as ErrorCode[]).filter((code) => !NOT_AN_EXECUTION_ANSWER.includes(code) && !STREAM_SESSION_CODES.includes(code)))(
    'POST /v1/executions documents %s under its status',
    (code) => {
      const response = responses[String(ERROR_CATALOGUE[code].httpStatus)];
      expect(response?.description).toContain(code);
    },
  );

  it.each(STREAM_SESSION_CODES)('the WebSocket session documents %s with its close codes', (code) => {
    const ws = (doc.paths['/v1/executions/stream'] as { get: { 'x-websocket': { errorCodes: string[]; closeCodes: Record<string, string> } } }).get['x-websocket'];
    expect(ws.errorCodes).toContain(code);
    expect(Object.keys(ws.closeCodes)).toEqual(['1000', '1003', '1008', '1009', '1011', '1013']);
  });
});
