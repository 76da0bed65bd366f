export {
  DEFAULT_EXECUTION_LIMITS,
  parseExecutionRequest,
  REQUEST_FIELDS,
  type ExecutionLimits,
  type ExecutionRequest,
  type ExecutionResult,
  type Job,
} from './api';
export {
  ENTRY_EXTENSIONS,
  LANGUAGES,
  languageNamed,
  pathProblem,
  type CollectedFile,
  type Language,
  type ProgramFile,
  type ProgramLimits,
} from './program';
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
export { runtimesAnswer, type RuntimesAnswer } from './runtimes';
export {
  COMPARE_MODES,
  DEFAULT_COMPARE,
  outputMatches,
  summarizeTests,
  testPassed,
  testStatus,
  type Compare,
  type TestResult,
  type TestStatus,
  type TestsResult,
  type TestsSummary,
  type Verdict,
} from './verdicts';
export {
  DEFAULT_SUBMISSION_LIMITS,
  EXECUTION_STATES,
  executionCount,
  ID_PATTERN,
  parseSubmission,
  SUBMISSION_FIELDS,
  testJob,
  type BatchAccepted,
  type BatchRecord,
  type DeliveryAttempt,
  type DeliveryRecord,
  type ExecutionRecord,
  type ExecutionState,
  type Submission,
  type SubmissionLimits,
  type SubmissionRequest,
  type SubmissionResult,
  type TestCase,
  type TestCaseRequest,
} from './submission';
export { describeRedis, type RedisEndpoint, type RedisNode } from './redis';
export {
  parsePistonExecute,
  PISTON_EXECUTE_FIELDS,
  PISTON_STATUS,
  pistonAnswer,
  pistonInternalError,
  type PistonExecuteAnswer,
  type PistonRun,
  type PistonRuntime,
  type PistonStatus,
} from './compat-piston';
export { SIGNAL_NUMBERS, signalNumber } from './compat-signals';
export {
  isolateMessage,
  JUDGE0_LANGUAGE_IDS,
  JUDGE0_SOURCE_FILES,
  JUDGE0_STATUS_OF,
  JUDGE0_STATUSES,
  JUDGE0_VERSION,
  judge0Config,
  judge0Languages,
  judge0Status,
  type Judge0Config,
  type Judge0Language,
  type Judge0Status,
  type Judge0StatusId,
} from './compat-judge0';
export { judge0Echo, judge0Tag, parseJudge0Submission, shellWords, type Judge0Echo, type Judge0FieldErrors } from './compat-judge0-request';
export {
  JUDGE0_DEFAULT_FIELDS,
  JUDGE0_FIELDS,
  judge0Attributes,
  judge0Fields,
  judge0Render,
  judge0Strip,
  judge0View,
  rubyBase64,
  type Judge0Field,
  type Judge0View,
} from './compat-judge0-render';
