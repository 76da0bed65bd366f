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
  WaitUntilIdleOptions,
} from './types';
export type { ErrorBody, ErrorCode, ExecutionRequest, ExecutionResult, ExecutionStatus, HealthAnswer, PoolAnswer, ReadyAnswer, SlotRecord } from '@corral/contracts';
