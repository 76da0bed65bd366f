import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import {
  BACKENDS,
  DEFAULT_EXECUTION_LIMITS,
  DEFAULT_SUBMISSION_LIMITS,
  NAME_PATTERN,
  type Backend,
  type ExecutionLimits,
  type RedisEndpoint,
  type SubmissionLimits,
} from '@corral/contracts';
import { EnvReader, type Env } from './env';
import { redisEndpoint } from './redis';
import { webhookConfig, type WebhookConfig } from './webhooks';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** What every service reads: where Redis is, which keys are ours, who we are. */
export interface CommonConfig {
  /** One server, a master through Sentinel, or a Cluster (REDIS_URL, REDIS_SENTINELS…, REDIS_CLUSTER_NODES). */
  redis: RedisEndpoint;
  /** Every Redis key starts with `{prefix}:`; tests use a random one each. */
  redisPrefix: string;
  /** This machine's name in the registry; slots and sandboxes belong to a host. */
  hostId: string;
  logLevel: LogLevel;
}

/** One API key: who it is, and its limits. */
export interface ApiKey {
  name: string;
  /** SHA-256 of the key, hex: the key itself is not kept. */
  sha256: string;
  ratePerMinute: number;
  maxConcurrent: number;
  /** Signs this key's webhooks instead of CORRAL_WEBHOOK_SECRET. */
  webhookSecret?: string;
}

/** Test cases and executions kept in the background (router). */
export interface BackgroundConfig {
  /** How many of one submission's tests run at once at most (fewer when the pool is small: one slot is left to others). */
  testParallelism: number;
  /** How long a finished background execution (and a batch) is kept for GET. */
  resultTtlS: number;
  /** Background executions one router runs at once. */
  concurrency: number;
  /** A router's hold on a background execution; one whose router died is taken up by another after about this. */
  lockMs: number;
  /** How many times a background execution is started, at most, when its worker or router dies under it. */
  attempts: number;
}

export interface RouterConfig extends CommonConfig {
  /** Empty: no key is asked for (the single-machine default). */
  apiKeys: readonly ApiKey[];
  port: number;
  bindHost: string;
  limits: SubmissionLimits;
  maxBodyBytes: number;
  /** How long a client may take to send a request's headers (408 beyond). */
  headersTimeoutMs: number;
  /** How long a client may take to send a whole request, headers and body (408 beyond); never the answer's time. */
  bodyTimeoutMs: number;
  /** How long a request may wait for an idle slot before 503. */
  queueTimeoutMs: number;
  /** How many requests one router lets wait at once before 429. */
  maxQueue: number;
  /** How long a claimed slot stays reserved before the worker accepts the job. */
  claimTtlMs: number;
  /** How many other slots to try when a slot's worker refuses the connection. */
  maxRetries: number;
  shutdownGraceMs: number;
  background: BackgroundConfig;
  webhooks: WebhookConfig;
  /** The web playground at `GET /`: served, or `off` (then `/` is 404 like any unknown path). */
  playground: 'on' | 'off';
  /** A live execution's stream gets a heartbeat (an SSE comment, a WebSocket ping) after this much silence. */
  streamHeartbeatMs: number;
}

export interface WorkerConfig extends CommonConfig {
  port: number;
  limits: ExecutionLimits;
  maxOutputBytes: number;
  /** The sandbox runtime (a Node 24 binary); unset means the pinned one installed with corral. */
  sandboxNode: string | undefined;
  /** How many sandboxes boot at once when many slots start together. */
  bootConcurrency: number;
  /** How often the worker re-reads its slot inventory (it also reacts to netprov's events). */
  inventoryPollMs: number;
  shutdownGraceMs: number;
  /**
   * The OS layers around sandboxes: `auto` (every layer this host allows, saying which are off),
   * `required` (refuse to start unless every layer root can have is on), `off` (permission
   * model, environment and rlimits only). Default: `required` as root, `auto` otherwise.
   */
  sandboxJail: 'auto' | 'required' | 'off';
  /** Where the files sandboxes must read are staged when their own paths are out of a sandbox uid's reach. */
  stageDir: string;
  /** bubblewrap binary; unset: `bwrap` on PATH. */
  bwrapPath: string | undefined;
  /** Sandboxes of slot i run as uid/gid uidBase + i (when the worker is root). */
  sandboxUidBase: number;
  /** A cgroup per sandbox (when root): auto or off. */
  cgroups: 'auto' | 'off';
  /** Processes and threads one sandbox may have (cgroup pids.max). */
  sandboxPidsMax: number;
  /** RLIMIT_NPROC for a sandbox's uid (counts threads; needs a uid of its own). */
  sandboxNprocMax: number;
  /** Size of the sandbox's private /tmp. */
  sandboxTmpMb: number;
  /** Resident memory a sandbox may use beyond its job's memoryMb: the runtime's own footprint. */
  rssOverheadMb: number;
  /** Size of a sandbox's writable working directory (its job's files and what it writes). */
  sandboxWorkMb: number;
  /** Bytes of collected files one result may carry. */
  maxCollectBytes: number;
  /** A directory holding the `node_modules` every sandbox may import from; unset: the default set installed with corral. */
  packagesDir: string | undefined;
}

export interface WatchdogConfig extends CommonConfig {
  sampleMs: number;
  /** How often the watchdog looks for orphans: slots of a worker that stopped, jobs past their lease. */
  sweepMs: number;
  /** Resident memory a sandbox may use beyond its job's memoryMb: the runtime's own footprint. */
  rssOverheadMb: number;
}

export interface NetprovConfig extends CommonConfig {
  backend: Backend;
  /** First slot address for the loopback backend. */
  loopbackBase: string;
  /** tap, netns: the private range slot addresses come from (netprov checks it in detail). */
  cidr: string;
  /** tap, netns: the name prefix of every device and namespace netprov makes. */
  netprovPrefix: string;
}

function common(r: EnvReader): CommonConfig {
  return {
    redis: redisEndpoint(r),
    redisPrefix: r.string('CORRAL_REDIS_PREFIX', 'corral', NAME_PATTERN),
    hostId: r.string('CORRAL_HOST_ID', hostname().split('.')[0] || 'localhost', NAME_PATTERN),
    logLevel: r.oneOf('LOG_LEVEL', LOG_LEVELS, 'info'),
  };
}

function limits(r: EnvReader): ExecutionLimits {
  const d = DEFAULT_EXECUTION_LIMITS;
  const MiB = 1024 * 1024;
  const result: ExecutionLimits = {
    maxCodeBytes: r.int('CORRAL_MAX_CODE_BYTES', d.maxCodeBytes, { min: 1, max: 64 * MiB }),
    maxStdinBytes: r.int('CORRAL_MAX_STDIN_BYTES', d.maxStdinBytes, { min: 0, max: 64 * MiB }),
    maxArgs: r.int('CORRAL_MAX_ARGS', d.maxArgs, { min: 0, max: 4096 }),
    maxArgBytes: d.maxArgBytes,
    defaultTimeoutMs: r.int('CORRAL_DEFAULT_TIMEOUT_MS', d.defaultTimeoutMs, { min: 1 }),
    maxTimeoutMs: r.int('CORRAL_MAX_TIMEOUT_MS', d.maxTimeoutMs, { min: 1, max: 3_600_000 }),
    maxCpuMs: r.int('CORRAL_MAX_CPU_MS', d.maxCpuMs, { min: 1, max: 3_600_000 }),
    defaultMemoryMb: r.int('CORRAL_DEFAULT_MEMORY_MB', d.defaultMemoryMb, { min: d.minMemoryMb }),
    minMemoryMb: d.minMemoryMb,
    maxFiles: r.int('CORRAL_MAX_FILES', d.maxFiles, { min: 1, max: 10_000 }),
    maxFilesBytes: r.int('CORRAL_MAX_FILES_BYTES', d.maxFilesBytes, { min: 1, max: 256 * MiB }),
    maxCollect: d.maxCollect,
    maxMemoryMb: r.int('CORRAL_MAX_MEMORY_MB', d.maxMemoryMb, { min: d.minMemoryMb, max: 65_536 }),
  };
  if (result.defaultTimeoutMs > result.maxTimeoutMs) {
    r.problem(`CORRAL_DEFAULT_TIMEOUT_MS (${result.defaultTimeoutMs}) must not exceed CORRAL_MAX_TIMEOUT_MS (${result.maxTimeoutMs})`);
  }
  if (result.defaultMemoryMb > result.maxMemoryMb) {
    r.problem(`CORRAL_DEFAULT_MEMORY_MB (${result.defaultMemoryMb}) must not exceed CORRAL_MAX_MEMORY_MB (${result.maxMemoryMb})`);
  }
  return result;
}

const KEY_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * API keys from CORRAL_API_KEYS ("name:key,name:key") and/or CORRAL_API_KEYS_FILE (a JSON array
 * of {name, key or sha256, ratePerMinute?, maxConcurrent?}); per-key limits default to
 * CORRAL_KEY_RATE_PER_MIN and CORRAL_KEY_CONCURRENCY.
 */
function apiKeys(r: EnvReader): ApiKey[] {
  const ratePerMinute = r.int('CORRAL_KEY_RATE_PER_MIN', 600, { min: 1 });
  const maxConcurrent = r.int('CORRAL_KEY_CONCURRENCY', 16, { min: 1 });
  const keys: ApiKey[] = [];
  const inline = r.optionalString('CORRAL_API_KEYS');
  for (const entry of inline ? inline.split(',') : []) {
    const at = entry.indexOf(':');
    const name = entry.slice(0, at).trim();
    const key = entry.slice(at + 1).trim();
    if (at < 1 || !KEY_NAME.test(name) || key.length < 16) {
      r.problem('CORRAL_API_KEYS must be "name:key" pairs separated by commas, names of letters, digits, _ . -, keys of at least 16 characters');
      break;
    }
    keys.push({ name, sha256: sha256(key), ratePerMinute, maxConcurrent });
  }
  const file = r.optionalString('CORRAL_API_KEYS_FILE');
  if (file) {
    try {
      const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
      if (!Array.isArray(parsed)) throw new Error('it must hold a JSON array');
      for (const [i, item] of parsed.entries()) {
        const k = item as Record<string, unknown>;
        const name = k['name'];
        const hash = typeof k['sha256'] === 'string' ? k['sha256'].toLowerCase() : typeof k['key'] === 'string' && k['key'].length >= 16 ? sha256(k['key']) : null;
        if (typeof name !== 'string' || !KEY_NAME.test(name) || !hash || !/^[0-9a-f]{64}$/.test(hash)) {
          throw new Error(`entry ${i} needs a "name" and a "key" (16+ characters) or a "sha256"`);
        }
        const rate = k['ratePerMinute'] ?? ratePerMinute;
        const concurrent = k['maxConcurrent'] ?? maxConcurrent;
        if (!Number.isInteger(rate) || !Number.isInteger(concurrent) || (rate as number) < 1 || (concurrent as number) < 1) {
          throw new Error(`entry ${i} (${name}): ratePerMinute and maxConcurrent must be whole numbers of at least 1`);
        }
        const webhookSecret = k['webhookSecret'];
        if (webhookSecret !== undefined && (typeof webhookSecret !== 'string' || webhookSecret.length < 16)) {
          throw new Error(`entry ${i} (${name}): webhookSecret must be a string of at least 16 characters`);
        }
        keys.push({ name, sha256: hash, ratePerMinute: rate as number, maxConcurrent: concurrent as number, ...(webhookSecret ? { webhookSecret } : {}) });
      }
    } catch (err) {
      r.problem(`CORRAL_API_KEYS_FILE=${file}: ${(err as Error).message}`);
    }
  }
  const names = keys.map((k) => k.name);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice) r.problem(`API key name "${twice}" is used twice`);
  return keys;
}

/** How long a client may take to send its request: the headers, then all of it. */
function requestTimeouts(r: EnvReader): { headersTimeoutMs: number; bodyTimeoutMs: number } {
  const headersTimeoutMs = r.int('CORRAL_HEADERS_TIMEOUT_MS', 5000, { min: 100, max: 600_000 });
  const bodyTimeoutMs = r.int('CORRAL_BODY_TIMEOUT_MS', 10_000, { min: 100, max: 3_600_000 });
  // Node refuses a headers timeout longer than the whole request's.
  if (headersTimeoutMs > bodyTimeoutMs) {
    r.problem(`CORRAL_HEADERS_TIMEOUT_MS (${headersTimeoutMs}) must not exceed CORRAL_BODY_TIMEOUT_MS (${bodyTimeoutMs})`);
  }
  return { headersTimeoutMs, bodyTimeoutMs };
}

/** @throws ConfigError listing every invalid variable */
export function loadRouterConfig(env: Env): Readonly<RouterConfig> {
  const r = new EnvReader(env);
  return r.done({
    ...common(r),
    port: r.int('PORT', 8080, { min: 0, max: 65_535 }),
    bindHost: r.string('HOST', '127.0.0.1'),
    limits: {
      ...limits(r),
      maxTests: r.int('CORRAL_MAX_TESTS', DEFAULT_SUBMISSION_LIMITS.maxTests, { min: 1, max: 10_000 }),
      maxBatch: r.int('CORRAL_MAX_BATCH', DEFAULT_SUBMISSION_LIMITS.maxBatch, { min: 1, max: 10_000 }),
    },
    apiKeys: apiKeys(r),
    maxBodyBytes: r.int('CORRAL_MAX_BODY_BYTES', 4 * 1024 * 1024, { min: 1024 }),
    ...requestTimeouts(r),
    queueTimeoutMs: r.int('CORRAL_QUEUE_TIMEOUT_MS', 10_000, { min: 0, max: 600_000 }),
    maxQueue: r.int('CORRAL_MAX_QUEUE', 1000, { min: 0 }),
    claimTtlMs: r.int('CORRAL_CLAIM_TTL_MS', 15_000, { min: 100 }),
    maxRetries: r.int('CORRAL_MAX_RETRIES', 3, { min: 0, max: 100 }),
    shutdownGraceMs: r.int('CORRAL_SHUTDOWN_GRACE_MS', 30_000, { min: 0 }),
    background: {
      testParallelism: r.int('CORRAL_TEST_PARALLELISM', 4, { min: 1, max: 1000 }),
      resultTtlS: r.int('CORRAL_RESULT_TTL_S', 3600, { min: 1, max: 30 * 86_400 }),
      concurrency: r.int('CORRAL_ASYNC_CONCURRENCY', 2, { min: 1, max: 1000 }),
      lockMs: r.int('CORRAL_ASYNC_LOCK_MS', 10_000, { min: 1000, max: 600_000 }),
      attempts: r.int('CORRAL_ASYNC_ATTEMPTS', 3, { min: 1, max: 20 }),
    },
    webhooks: webhookConfig(r),
    playground: r.oneOf('CORRAL_PLAYGROUND', ['on', 'off'] as const, 'on'),
    streamHeartbeatMs: r.int('CORRAL_STREAM_HEARTBEAT_MS', 15_000, { min: 100, max: 600_000 }),
  });
}

/** @throws ConfigError listing every invalid variable */
export function loadWorkerConfig(env: Env): Readonly<WorkerConfig> {
  const r = new EnvReader(env);
  return r.done({
    ...common(r),
    port: r.int('CORRAL_WORKER_PORT', 7070, { min: 1, max: 65_535 }),
    limits: limits(r),
    maxOutputBytes: r.int('CORRAL_MAX_OUTPUT_BYTES', 1024 * 1024, { min: 1, max: 256 * 1024 * 1024 }),
    sandboxNode: r.optionalString('CORRAL_SANDBOX_NODE'),
    bootConcurrency: r.int('CORRAL_BOOT_CONCURRENCY', 4, { min: 1, max: 256 }),
    inventoryPollMs: r.int('CORRAL_INVENTORY_POLL_MS', 5000, { min: 100 }),
    shutdownGraceMs: r.int('CORRAL_SHUTDOWN_GRACE_MS', 30_000, { min: 0 }),
    // As root every layer is possible, so a missing one is a fault to stop at, not to run around.
    sandboxJail: r.oneOf('CORRAL_SANDBOX_JAIL', ['auto', 'required', 'off'] as const, process.getuid?.() === 0 ? 'required' : 'auto'),
    stageDir: r.string('CORRAL_STAGE_DIR', '/var/lib/corral/stage', /^\/.+/),
    bwrapPath: r.optionalString('CORRAL_BWRAP'),
    sandboxUidBase: r.int('CORRAL_SANDBOX_UID_BASE', 200_000, { min: 1000, max: 4_000_000_000 }),
    cgroups: r.oneOf('CORRAL_CGROUPS', ['auto', 'off'] as const, 'auto'),
    sandboxPidsMax: r.int('CORRAL_SANDBOX_PIDS', 64, { min: 16, max: 100_000 }),
    sandboxNprocMax: r.int('CORRAL_SANDBOX_NPROC', 64, { min: 16, max: 100_000 }),
    sandboxTmpMb: r.int('CORRAL_SANDBOX_TMP_MB', 16, { min: 1, max: 65_536 }),
    rssOverheadMb: rssOverheadMb(r),
    sandboxWorkMb: r.int('CORRAL_SANDBOX_WORK_MB', 32, { min: 1, max: 65_536 }),
    maxCollectBytes: r.int('CORRAL_MAX_COLLECT_BYTES', 1024 * 1024, { min: 0, max: 256 * 1024 * 1024 }),
    packagesDir: r.optionalString('CORRAL_PACKAGES_DIR'),
  });
}

function rssOverheadMb(r: EnvReader): number {
  return r.int('CORRAL_RSS_OVERHEAD_MB', 96, { min: 0, max: 65_536 });
}

/** @throws ConfigError listing every invalid variable */
export function loadWatchdogConfig(env: Env): Readonly<WatchdogConfig> {
  const r = new EnvReader(env);
  return r.done({
    ...common(r),
    sampleMs: r.int('CORRAL_SAMPLE_MS', 100, { min: 10, max: 60_000 }),
    sweepMs: r.int('CORRAL_SWEEP_MS', 2000, { min: 100, max: 600_000 }),
    rssOverheadMb: rssOverheadMb(r),
  });
}

/** @throws ConfigError listing every invalid variable */
export function loadNetprovConfig(env: Env): Readonly<NetprovConfig> {
  const r = new EnvReader(env);
  return r.done({
    ...common(r),
    backend: r.oneOf('CORRAL_BACKEND', BACKENDS, 'loopback'),
    loopbackBase: r.string('CORRAL_LOOPBACK_BASE', '127.77.0.1'),
    cidr: r.string('CORRAL_CIDR', '172.16.0.0/12'),
    netprovPrefix: r.string('CORRAL_NETPROV_PREFIX', 'crl-', /^[a-z][a-z0-9]{0,4}-$/),
  });
}

/** The services whose environment a loader reads. */
export type ServiceName = 'router' | 'worker' | 'watchdog' | 'netprov';

const LOADERS: Record<ServiceName, (env: Env) => unknown> = {
  router: loadRouterConfig,
  worker: loadWorkerConfig,
  watchdog: loadWatchdogConfig,
  netprov: loadNetprovConfig,
};

/**
 * The configuration schema as the loaders define it: every variable a service reads, found by
 * running its loader on an environment that records each name asked for (every loader reads
 * each of its variables whatever the others say). Deployment manifests are checked against it.
 */
export function configVariables(service: ServiceName): string[] {
  const asked = new Set<string>();
  const recording = new Proxy({} as Env, {
    get: (_target, name) => {
      if (typeof name === 'string') asked.add(name);
      return undefined;
    },
  });
  LOADERS[service](recording);
  return [...asked].sort();
}
