import { ERROR_CATALOGUE, type ErrorCode } from './errors';
import { EXECUTION_STATUSES } from './status';
import { EXECUTION_STATES, SUBMISSION_FIELDS, type SubmissionLimits } from './submission';
import { COMPARE_MODES } from './verdicts';

const json = 'application/json';
const ref = (name: string): Record<string, string> => ({ $ref: `#/components/schemas/${name}` });

function errors(description: string, codes: ErrorCode[]): Record<string, unknown> {
  return { description: `${description} Codes: ${codes.join(', ')}.`, content: { [json]: { schema: ref('Error') } } };
}

/** The request fields beyond one program: tests, how they are compared, and how it is answered. */
export function submissionProperties(limits: SubmissionLimits): Record<(typeof SUBMISSION_FIELDS)[number], Record<string, unknown>> {
  return {
    tests: {
      type: 'array',
      minItems: 1,
      maxItems: limits.maxTests,
      description: "Run the program once per test, each in a fresh sandbox of its own; a test's stdin and args replace the request's.",
      items: {
        type: 'object',
        additionalProperties: false,
        properties: { stdin: { type: 'string' }, args: { type: 'array', items: { type: 'string' } }, expected: { type: 'string', description: 'Without it the test has the usual statuses.' } },
      },
    },
    compare: {
      description: 'How stdout is compared with `expected`: `trim` (trailing whitespace per line and at the end ignored), `exact`, `tokens`, or `{ "float": tolerance }` (tokens; numbers within the tolerance, absolute or relative).',
      default: 'trim',
      oneOf: [
        { type: 'string', enum: [...COMPARE_MODES] },
        { type: 'object', additionalProperties: false, required: ['float'], properties: { float: { type: 'number', exclusiveMinimum: 0 } } },
      ],
    },
    stopOnFailure: { type: 'boolean', default: false, description: 'Once a test fails, tests not yet started are `skipped`.' },
    wait: { type: 'boolean', default: true, description: '`false`: answer 202 at once; the execution runs in the background (GET /v1/executions/{id}).' },
    callbackUrl: {
      type: 'string',
      format: 'uri',
      description: 'POSTed the final record, signed (`X-Corral-Signature: sha256=<HMAC-SHA256 of the body>`, `Idempotency-Key`), retried with backoff. Must match CORRAL_WEBHOOK_ALLOW.',
    },
  };
}

const idParameter = { name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } };

/** Paths of the background API: an execution answered 202, and batches. */
export function backgroundPaths(): Record<string, unknown> {
  const notFound = errors('No such execution (never made, expired, or another API key’s).', ['not_found']);
  const badId = errors('The id is not one corral makes.', ['invalid_id']);
  return {
    '/v1/executions/{id}': {
      parameters: [idParameter],
      get: {
        operationId: 'getExecution',
        summary: 'An execution kept in the background: its state, and its result once done.',
        responses: { '200': { description: 'Its record.', content: { [json]: { schema: ref('ExecutionRecord') } } }, '400': badId, '404': notFound },
      },
      delete: {
        operationId: 'cancelExecution',
        summary: 'Cancels it: a queued execution never runs, a running one is stopped and recorded `cancelled`.',
        responses: { '200': { description: 'Its record after the cancel.', content: { [json]: { schema: ref('ExecutionRecord') } } }, '400': badId, '404': notFound },
      },
    },
    '/v1/batches': {
      post: {
        operationId: 'createBatch',
        summary: 'Runs several executions in the background.',
        requestBody: {
          required: true,
          content: { [json]: { schema: { type: 'object', additionalProperties: false, required: ['executions'], properties: { executions: { type: 'array', minItems: 1, items: ref('ExecutionRequest') } } } } },
        },
        responses: {
          '202': { description: 'Accepted: the batch id and each member’s execution id.', content: { [json]: { schema: ref('BatchAccepted') } } },
          '400': errors('A member is not valid (each problem names its index).', ['invalid_json', 'invalid_request', 'callback_refused']),
          '413': errors('Too many members, tests or bytes.', ['payload_too_large']),
          '429': errors('The API key’s rate cannot hold every member’s executions.', ['rate_limited']),
        },
      },
    },
    '/v1/batches/{id}': {
      parameters: [idParameter],
      get: {
        operationId: 'getBatch',
        summary: 'Every member’s state and result.',
        responses: { '200': { description: 'The batch.', content: { [json]: { schema: ref('BatchRecord') } } }, '400': badId, '404': errors('No such batch.', ['not_found']) },
      },
    },
  };
}

/** Schemas of test results, background records and batches. */
export function backgroundSchemas(): Record<string, unknown> {
  const testStatuses = [...new Set(['accepted', 'wrong_answer', ...EXECUTION_STATUSES, 'skipped', 'not_run'])];
  return {
    TestsResult: {
      type: 'object',
      required: ['id', 'tests', 'summary'],
      properties: {
        id: { type: 'string' },
        tests: {
          type: 'array',
          items: {
            type: 'object',
            required: ['index', 'status'],
            description: 'One test: its index and, when it ran, every field of an ExecutionResult, `status` being its verdict; `not_run` carries `error`.',
            properties: { index: { type: 'integer' }, status: { type: 'string', enum: testStatuses }, error: { type: 'object' } },
          },
        },
        summary: {
          type: 'object',
          required: ['total', 'accepted', 'failed', 'skipped', 'status'],
          properties: {
            total: { type: 'integer' },
            accepted: { type: 'integer' },
            failed: { type: 'integer' },
            skipped: { type: 'integer' },
            status: { type: 'string', enum: testStatuses, description: 'The first failing test’s status (by index), or `accepted`.' },
          },
        },
      },
    },
    Accepted: {
      type: 'object',
      required: ['id', 'state'],
      properties: { id: { type: 'string', format: 'uuid' }, state: { type: 'string', const: 'queued' } },
    },
    ExecutionRecord: {
      type: 'object',
      required: ['id', 'state', 'createdAt', 'attempts'],
      properties: {
        id: { type: 'string', format: 'uuid' },
        state: { type: 'string', enum: [...EXECUTION_STATES] },
        createdAt: { type: 'string', format: 'date-time' },
        startedAt: { type: 'string', format: 'date-time' },
        finishedAt: { type: 'string', format: 'date-time' },
        attempts: { type: 'integer', description: 'Times a router took it up (it stays queued until a worker has it, so a queued one may show 1): more than one when the router or worker running it died.' },
        result: { oneOf: [ref('ExecutionResult'), ref('TestsResult')] },
        error: { type: 'object', properties: { code: { type: 'string', enum: Object.keys(ERROR_CATALOGUE) }, message: { type: 'string' } } },
        batchId: { type: 'string', format: 'uuid' },
        webhook: {
          type: 'object',
          properties: {
            url: { type: 'string' },
            deliveryId: { type: 'string' },
            state: { type: 'string', enum: ['pending', 'delivered', 'failed'] },
            attempts: {
              type: 'array',
              items: {
                type: 'object',
                properties: { attempt: { type: 'integer' }, at: { type: 'string' }, httpStatus: { type: ['integer', 'null'] }, ok: { type: 'boolean' }, error: { type: 'string' }, durationMs: { type: 'number' } },
              },
            },
          },
        },
      },
    },
    BatchAccepted: {
      type: 'object',
      required: ['id', 'executions'],
      properties: { id: { type: 'string', format: 'uuid' }, executions: { type: 'array', items: { type: 'string', format: 'uuid' } } },
    },
    BatchRecord: {
      type: 'object',
      required: ['id', 'createdAt', 'executions', 'states'],
      properties: {
        id: { type: 'string', format: 'uuid' },
        createdAt: { type: 'string', format: 'date-time' },
        executions: { type: 'array', items: ref('ExecutionRecord') },
        states: { type: 'object', properties: Object.fromEntries(EXECUTION_STATES.map((s) => [s, { type: 'integer' }])) },
      },
    },
  };
}
