export { CorralClient } from './client';
export {
  CLIENT_ERROR_CODES,
  CorralClientError,
  parseRetryAfter,
  type ClientErrorCode,
  type CorralClientErrorCode,
  type CorralClientErrorInit,
} from './errors';
export type {
  CallOptions,
  ClientResponse,
  CorralClientOptions,
  FetchInitLike,
  FetchLike,
  FetchResponseLike,
  HeadersLike,
  RawAnswer,
  RawOption,
  StreamOptions,
  StreamReaderLike,
  SubmissionAccepted,
  TestsRequest,
  WaitOptions,
  WaitUntilIdleOptions,
} from './types';
export type { ErrorBody, ErrorCode, ExecutionRequest, ExecutionResult, ExecutionStatus, HealthAnswer, PoolAnswer, ReadyAnswer, SlotRecord } from '@corral/contracts';
export type {
  BatchAccepted,
  BatchRecord,
  Compare,
  ExecutionRecord,
  ExecutionState,
  RuntimesAnswer,
  SubmissionRequest,
  SubmissionResult,
  TestCaseRequest,
  TestResult,
  TestsResult,
  TestStatus,
  TestsSummary,
} from '@corral/contracts';
export { SseParser, type SseMessage } from './sse';
export type { ClientStreamEvent, StreamRequest, StreamResultEvent } from './stream';
export type { OutputEvent, OutputStream } from '@corral/contracts';
