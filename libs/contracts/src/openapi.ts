import { REQUEST_FIELDS } from './api';
import { backgroundPaths, backgroundSchemas, submissionProperties } from './openapi-background';
import { DEFAULT_SUBMISSION_LIMITS, type SubmissionLimits } from './submission';
import { ENTRY_EXTENSIONS, LANGUAGES } from './program';
import { ERROR_CATALOGUE, MAX_DETAILS_CHARS, MAX_MESSAGE_CHARS, type ErrorCode } from './errors';
import { SLOT_STATES } from './slots';
import { sseContent, STREAM_SESSION_CODES, streamPaths } from './openapi-stream';
import { EXECUTION_STATUSES } from './status';

const json = 'application/json';

function errorResponse(description: string, codes: ErrorCode[]): Record<string, unknown> {
  return {
    description: `${description} Codes: ${codes.join(', ')}.`,
    content: { [json]: { schema: { $ref: '#/components/schemas/Error' } } },
  };
}

/**
 * The OpenAPI 3.1 document of the public API, built from the same constants the router
 * validates with (request fields, limits, statuses, error codes), so that it cannot drift.
 */
export function openApiDocument(executionLimits: Omit<SubmissionLimits, 'maxTests' | 'maxBatch'> & Partial<SubmissionLimits>, options: { version: string; apiKeys: boolean }): Record<string, unknown> {
  const limits: SubmissionLimits = { ...DEFAULT_SUBMISSION_LIMITS, ...executionLimits };
  const byStatus = (status: number): ErrorCode[] =>
    (Object.keys(ERROR_CATALOGUE) as ErrorCode[]).filter((code) => ERROR_CATALOGUE[code].httpStatus === status && !STREAM_SESSION_CODES.includes(code));
  const request: Record<(typeof REQUEST_FIELDS)[number], Record<string, unknown>> = {
    language: {
      type: 'string',
      enum: Object.values(LANGUAGES).flatMap((l) => [...l.aliases]),
      default: 'javascript',
      description: '`javascript` or `typescript` (or an alias): `code` is run as `node main.js` or `node main.ts` would run it.',
    },
    code: {
      type: 'string',
      minLength: 1,
      description: `One file, run as \`node main.js\` (or \`main.ts\`) would: CommonJS, or an ES module with top-level await where node detects one. At most ${limits.maxCodeBytes} bytes (UTF-8). Not with \`files\`.`,
    },
    files: {
      type: 'array',
      minItems: 1,
      maxItems: limits.maxFiles,
      description: `A small tree instead of \`code\`, written into the working directory (at most ${limits.maxFilesBytes} bytes decoded). Relative names, no \`..\`.`,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'content'],
        properties: { name: { type: 'string' }, content: { type: 'string' }, encoding: { type: 'string', enum: ['utf8', 'base64'], default: 'utf8' } },
      },
    },
    entry: { type: 'string', description: `The file of \`files\` that node runs (ending in ${ENTRY_EXTENSIONS.join(', ')}); the first file when not given.` },
    collect: {
      type: 'array',
      maxItems: limits.maxCollect,
      items: { type: 'string' },
      description: 'Globs of files in the working directory to return in the result (`out/*.csv`); none may leave it.',
    },
    stdin: { type: 'string', default: '', description: `Standard input. At most ${limits.maxStdinBytes} bytes.` },
    args: { type: 'array', items: { type: 'string' }, maxItems: limits.maxArgs, default: [], description: 'process.argv.slice(2)' },
    timeoutMs: { type: 'integer', minimum: 1, maximum: limits.maxTimeoutMs, default: limits.defaultTimeoutMs, description: 'Wall-time limit.' },
    cpuMs: { type: 'integer', minimum: 1, maximum: limits.maxCpuMs, description: 'CPU-time budget; defaults to timeoutMs.' },
    memoryMb: { type: 'integer', minimum: limits.minMemoryMb, maximum: limits.maxMemoryMb, default: limits.defaultMemoryMb, description: 'V8 heap limit.' },
  };
  return {
    openapi: '3.1.0',
    info: {
      title: 'corral',
      version: options.version,
      description: 'Runs untrusted JavaScript: a fresh, jailed, pre-booted process per execution.',
    },
    ...(options.apiKeys ? { security: [{ bearer: [] }] } : {}),
    paths: {
      '/v1/executions': {
        post: {
          operationId: 'createExecution',
          summary: 'Run a program once (or once per test) and answer with what it did; or accept it to run in the background.',
          requestBody: { required: true, content: { [json]: { schema: { $ref: '#/components/schemas/ExecutionRequest' } } } },
          responses: {
            '200': {
              description: 'The code ran, whatever it did (see status); with `tests`, one verdict per test and a summary.',
              content: { [json]: { schema: { oneOf: [{ $ref: '#/components/schemas/ExecutionResult' }, { $ref: '#/components/schemas/TestsResult' }] } }, ...sseContent() },
            },
            '202': {
              description: '`wait: false`: accepted; it runs in the background. `Location` names its record (GET /v1/executions/{id}).',
              headers: { Location: { schema: { type: 'string' } } },
              content: { [json]: { schema: { $ref: '#/components/schemas/Accepted' } } },
            },
            '400': errorResponse('The request is not valid (JSON, fields, or HTTP itself).', byStatus(400)),
            '401': errorResponse('A valid API key is required.', byStatus(401)),
            '408': errorResponse('The request did not arrive within the headers or body timeout.', byStatus(408)),
            '413': errorResponse('The request is too large (a declared Content-Length over the limit is refused before the body is read).', byStatus(413)),
            '415': errorResponse('The body has a Content-Encoding other than identity.', byStatus(415)),
            '429': errorResponse('Too many requests.', byStatus(429)),
            '431': errorResponse('The request headers are too large.', byStatus(431)),
            '500': errorResponse('An internal error of the router.', byStatus(500)),
            '502': errorResponse('The worker failed after taking the job; it was not retried.', byStatus(502)),
            '503': errorResponse('No capacity within the queue deadline, or shutting down (see Retry-After).', byStatus(503)),
          },
        },
      },
      ...backgroundPaths(),
      ...streamPaths(),
      '/v1/pool': {
        get: {
          operationId: 'getPool',
          summary: 'Slots by state, the slots, waiting requests and a consistency check.',
          responses: { '200': { description: 'The pool.', content: { [json]: { schema: { $ref: '#/components/schemas/Pool' } } } } },
        },
      },
      '/v1/runtimes': {
        get: {
          operationId: 'getRuntimes',
          summary: 'The languages programs may be written in (with their aliases), the runtime version, and the packages they may import.',
          responses: {
            '200': {
              description: 'The runtimes.',
              content: {
                [json]: {
                  schema: {
                    type: 'object',
                    properties: {
                      runtime: { type: 'object', properties: { name: { type: 'string' }, version: { type: ['string', 'null'] } } },
                      languages: {
                        type: 'array',
                        items: {
                          type: 'object',
                          properties: {
                            language: { type: 'string' },
                            aliases: { type: 'array', items: { type: 'string' } },
                            extensions: { type: 'array', items: { type: 'string' } },
                            version: { type: ['string', 'null'] },
                          },
                        },
                      },
                      packages: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' }, version: { type: 'string' } } } },
                    },
                  },
                },
              },
            },
          },
        },
      },
      '/healthz': { get: { operationId: 'health', security: [], responses: { '200': { description: 'The router runs.' } } } },
      '/readyz': {
        get: {
          operationId: 'ready',
          security: [],
          responses: { '200': { description: 'At least one slot is idle.' }, '503': errorResponse('No slot is idle.', ['unavailable']) },
        },
      },
      '/metrics': { get: { operationId: 'metrics', security: [], responses: { '200': { description: 'Prometheus text format.' } } } },
    },
    components: {
      ...(options.apiKeys ? { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } } : {}),
      schemas: {
        ExecutionRequest: {
          type: 'object',
          additionalProperties: false,
          properties: { ...request, ...submissionProperties(limits) },
          oneOf: [{ required: ['code'] }, { required: ['files'] }],
        },
        ...backgroundSchemas(),
        ExecutionResult: {
          type: 'object',
          required: ['id', 'status', 'exitCode', 'signal', 'stdout', 'stderr', 'truncated', 'durationMs', 'cpuMs', 'memoryBytes'],
          properties: {
            id: { type: 'string' },
            status: { type: 'string', enum: [...EXECUTION_STATUSES] },
            exitCode: { type: ['integer', 'null'] },
            signal: { type: ['string', 'null'] },
            stdout: { type: 'string' },
            stderr: { type: 'string' },
            truncated: { type: 'boolean' },
            durationMs: { type: 'number' },
            cpuMs: { type: 'number' },
            memoryBytes: { type: 'integer' },
            files: {
              type: 'array',
              description: 'The files `collect` matched (regular files only), within the collect byte cap; one that did not fit has `truncated` and no content.',
              items: {
                type: 'object',
                required: ['name', 'size', 'content'],
                properties: { name: { type: 'string' }, size: { type: 'integer' }, content: { type: 'string', contentEncoding: 'base64' }, truncated: { type: 'boolean' } },
              },
            },
          },
        },
        Error: {
          type: 'object',
          required: ['error'],
          properties: {
            error: {
              type: 'object',
              required: ['code', 'message'],
              properties: {
                code: { type: 'string', enum: Object.keys(ERROR_CATALOGUE) },
                message: { type: 'string', maxLength: MAX_MESSAGE_CHARS + 1 },
                details: {
                  description: `More about the error, e.g. { "problems": [...] } for invalid_request (a few offending fields named, the rest counted); left out beyond ${MAX_DETAILS_CHARS} characters of JSON.`,
                },
              },
            },
          },
        },
        Pool: {
          type: 'object',
          properties: {
            total: { type: 'integer' },
            ...Object.fromEntries(SLOT_STATES.map((state) => [state, { type: 'integer' }])),
            queued: { type: 'integer' },
            consistent: { type: 'boolean' },
            problems: { type: 'array', items: { type: 'string' } },
            slots: { type: 'array', items: { type: 'object' } },
            hosts: {
              type: 'array',
              description: 'Each live worker host: its jail policy, one line per layer (on, or off and why), and its sandbox runtime.',
              items: {
                type: 'object',
                properties: {
                  id: { type: 'string' },
                  jail: {
                    type: 'object',
                    properties: {
                      mode: { type: 'string', enum: ['auto', 'required', 'off'] },
                      layers: { type: 'object', additionalProperties: { type: 'string' } },
                      off: { type: 'array', items: { type: 'string' } },
                    },
                  },
                  runtime: { type: 'string' },
                  updatedAt: { type: 'integer' },
                },
              },
            },
          },
        },
      },
    },
  };
}
