export {
  DEFAULT_EXECUTION_LIMITS,
  parseExecutionRequest,
  REQUEST_FIELDS,
  type ExecutionLimits,
  type ExecutionRequest,
  type ExecutionResult,
  type Job,
} from './api';
export { CorralError, ERROR_CATALOGUE, errorBody, isErrorCode, type ErrorBody, type ErrorCode } from './errors';
export type { HealthAnswer, ReadyAnswer } from './probes';
export { ERROR_HEADER, NAME_PATTERN, REQUEST_ID_HEADER, STATUS_HEADER, TOKEN_HEADER, WORKER_KEEP_ALIVE_MS, WORKER_RUN_PATH } from './protocol';
export {
  BACKENDS,
  SLOT_PHASES,
  SLOT_STATES,
  slotId,
  type Backend,
  type Lease,
  type PoolCounts,
  type PoolAnswer,
  type PoolSnapshot,
  type RunningSandbox,
  type HostInfo,
  type SandboxCgroupFiles,
  type SlotAddress,
  type SlotPhase,
  type SlotRecord,
  type SlotState,
} from './slots';
export { EXECUTION_STATUSES, KILL_REASONS, isKillReason, type ExecutionStatus, type KillReason } from './status';
export { openApiDocument } from './openapi';
export { describeRedis, type RedisEndpoint, type RedisNode } from './redis';
