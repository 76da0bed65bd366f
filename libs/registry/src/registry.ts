import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import {
  isKillReason,
  SLOT_STATES,
  type Backend,
  type KillReason,
  type Lease,
  type PoolSnapshot,
  type RunningSandbox,
  type SlotAddress,
  type SlotRecord,
  type SlotState,
} from '@corral/contracts';
import { keySchema, type KeySchema } from './keys';
import { defineScripts, type ScriptName } from './scripts';

export interface RegistryOptions {
  url: string;
  prefix: string;
  /** Give up at the first connection failure (command-line tools) instead of retrying (services). */
  failFast?: boolean;
  /** How long `connect` waits for Redis before it fails. */
  connectTimeoutMs?: number;
  /** Connection errors after start-up (Redis restarts); services log them. */
  onError?: (err: Error) => void;
}

/** "inventory": netprov changed a host's slots; "running": a job started (or changed sandbox) on a host. */
export type RegistryEvent = { type: 'inventory' | 'running'; host: string };

/** A request's place in the queue shared by every router. */
export interface SlotRequest {
  /** Unique per request; names its place in the queue. */
  ticket: string;
  /** The router that waits; it hears "assigned <ticket>" on its channel. */
  routerId: string;
  /** Epoch ms after which the request no longer wants a slot. */
  deadline: number;
  /** How long a claim stays reserved until the worker starts the job. */
  claimTtlMs: number;
  requestId: string;
}

export type StartJobOutcome = 'started' | 'no_slot' | 'bad_token' | 'token_used';
export type SlotReadyOutcome = 'idle' | 'assigned' | 'already_idle' | 'gone' | 'claimed_by_other';

/** API key rates are counted per minute. */
const RATE_WINDOW_MS = 60_000;

/** A Redis URL without its password, fit for a log line or an error message. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<invalid url>';
  }
}

/** A fresh one-time token for a lease. */
export function newToken(): string {
  return randomBytes(18).toString('base64url');
}

function toSlot(hash: Record<string, string>): SlotRecord | null {
  if (!hash['id']) return null;
  const state = hash['state'] as SlotState;
  return {
    id: hash['id'],
    host: hash['host'] ?? '',
    ip: hash['ip'] ?? '',
    backend: (hash['backend'] ?? 'loopback') as Backend,
    state: (SLOT_STATES as readonly string[]).includes(state) ? state : 'dead',
    port: hash['port'] ? Number(hash['port']) : null,
    pid: hash['pid'] ? Number(hash['pid']) : null,
    updatedAt: Number(hash['updatedAt'] ?? 0),
    ...(hash['netns'] ? { netns: hash['netns'] } : {}),
  };
}

/** The slot registry: every read and write of corral's state in Redis goes through here. */
export class Registry {
  readonly keys: KeySchema;
  private readonly script: (name: ScriptName, keys: string[], args: (string | number)[]) => Promise<unknown>;
  private readonly subscribers: Redis[] = [];

  private constructor(
    private readonly redis: Redis,
    private readonly options: RegistryOptions,
  ) {
    this.keys = keySchema(options.prefix);
    this.script = defineScripts(redis);
  }

  /** Connects and waits until Redis answers. @throws Error naming the (redacted) URL and the cause */
  static async connect(options: RegistryOptions): Promise<Registry> {
    const redis = Registry.client(options);
    const registry = new Registry(redis, options);
    const timeoutMs = options.connectTimeoutMs ?? 10_000;
    let lastError: Error | undefined;
    const onError = (err: Error): void => {
      lastError = err;
    };
    redis.on('error', onError);
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('timed out')), timeoutMs);
        redis.once('ready', () => {
          clearTimeout(timer);
          resolve();
        });
        redis.once('end', () => {
          clearTimeout(timer);
          reject(lastError ?? new Error('connection closed'));
        });
        redis.connect().catch((err: Error) => {
          lastError ??= err; // the 'error' event's cause (ECONNREFUSED…) says more than "Connection is closed"
          if (options.failFast) {
            clearTimeout(timer);
            reject(err);
          }
        });
      });
    } catch (err) {
      redis.disconnect();
      const cause = lastError ?? (err as Error);
      throw new Error(`Cannot reach Redis at ${redactUrl(options.url)}: ${cause.message}`, { cause });
    } finally {
      redis.off('error', onError);
    }
    redis.on('error', (err: Error) => options.onError?.(err));
    return registry;
  }

  private static client(options: RegistryOptions): Redis {
    return new Redis(options.url, {
      lazyConnect: true,
      connectionName: 'corral',
      // No auto-pipelining: nearly every call is alone in its tick, and the batching machinery
      // cost latency and CPU on each (a one-key script, one at a time, on the 2-core dev machine:
      // p50 0.37-0.43 ms and 0.5 ms CPU per call without it, 0.51-0.54 ms and 0.75 ms with it).
      enableAutoPipelining: false,
      ...(options.failFast
        ? { maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false, disconnectTimeout: 100 }
        : { maxRetriesPerRequest: 3, retryStrategy: (attempt: number) => Math.min(50 * attempt, 1000) }),
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.subscribers.map((s) => s.quit().catch(() => s.disconnect())));
    await this.redis.quit().catch(() => this.redis.disconnect());
  }

  /** Makes the inventory of `host` exactly `slots` (netprov). */
  async publishInventory(
    host: string,
    backend: Backend,
    slots: readonly SlotAddress[],
  ): Promise<{ added: number; removed: number; changed: number }> {
    const k = this.keys;
    const triples = slots.flatMap((s) => [s.id, s.ip, s.netns ?? '']);
    const [added, removed, changed] = (await this.script(
      'publishInventory',
      [k.slots, k.hostSlots(host), k.leases, k.running(host), k.idle],
      [k.slotPrefix, host, backend, Date.now(), k.events, ...triples],
    )) as [number, number, number];
    return { added, removed, changed };
  }

  /** Every slot, or one host's, ordered by host and index. */
  async listSlots(host?: string): Promise<SlotRecord[]> {
    const ids = await this.redis.smembers(host ? this.keys.hostSlots(host) : this.keys.slots);
    if (ids.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.hgetall(this.keys.slot(id));
    return toSlots((await pipeline.exec()) ?? []);
  }

  /**
   * Every slot with its state, read in one transaction, and checked: each slot in exactly one
   * state; an idle slot listed exactly once in the idle list; a busy slot holding a lease; no
   * list entry or lease without its slot. A non-empty `problems` means a slot is lost or doubled.
   */
  async pool(): Promise<PoolSnapshot> {
    const k = this.keys;
    const ids = await this.redis.smembers(k.slots);
    const tx = this.redis.multi();
    for (const id of ids) tx.hgetall(k.slot(id));
    tx.lrange(k.idle, 0, -1);
    tx.zrange(k.leases, 0, -1);
    const replies = (await tx.exec()) ?? [];
    const leases = replies.pop()?.[1] as string[];
    const idleList = replies.pop()?.[1] as string[];
    const slots = toSlots(replies);
    const snapshot: PoolSnapshot = { total: slots.length, idle: 0, busy: 0, booting: 0, dead: 0, slots, consistent: true, problems: [] };
    const listed = new Map<string, number>();
    for (const id of idleList) listed.set(id, (listed.get(id) ?? 0) + 1);
    const leased = new Set(leases);
    const known = new Set(slots.map((slot) => slot.id));
    for (const slot of slots) {
      snapshot[slot.state] += 1;
      const times = listed.get(slot.id) ?? 0;
      if (slot.state === 'idle' && times !== 1) snapshot.problems.push(`${slot.id} is idle but listed ${times} times`);
      if (slot.state !== 'idle' && times > 0) snapshot.problems.push(`${slot.id} is ${slot.state} but in the idle list`);
      if (slot.state === 'busy' && !leased.has(slot.id)) snapshot.problems.push(`${slot.id} is busy without a lease`);
      if (slot.state !== 'busy' && leased.has(slot.id)) snapshot.problems.push(`${slot.id} is ${slot.state} but holds a lease`);
    }
    for (const id of listed.keys()) if (!known.has(id)) snapshot.problems.push(`${id} is in the idle list but not a slot`);
    for (const id of leased) if (!known.has(id)) snapshot.problems.push(`${id} holds a lease but is not a slot`);
    snapshot.consistent = snapshot.problems.length === 0;
    return snapshot;
  }

  /** The keys and prefixes every queue script takes. */
  private queueArgs(): { idle: string; leases: string; waiters: string; tickets: string } {
    const k = this.keys;
    return { idle: k.idle, leases: k.leases, waiters: k.waiters, tickets: k.tickets };
  }

  /**
   * Asks for a slot, first come first served across every router: a lease at once when a slot
   * is idle and nobody waits; else 'queued', and the router hears about its ticket later.
   */
  async requestSlot(request: SlotRequest): Promise<Lease | 'queued'> {
    const k = this.keys;
    const q = this.queueArgs();
    const token = newToken();
    const reply = (await this.script(
      'requestSlot',
      [q.idle, q.leases, q.waiters, q.tickets],
      [
        k.slotPrefix,
        k.runningPrefix,
        k.assignedPrefix,
        k.routerChannelPrefix,
        Date.now(),
        request.claimTtlMs,
        request.ticket,
        request.deadline,
        request.routerId,
        token,
        request.requestId,
      ],
    )) as string[];
    if (reply[0] !== 'claimed') return 'queued';
    const [, slotId = '', ip = '', port = '0', host = ''] = reply;
    return { slotId, ip, port: Number(port), host, token };
  }

  /** The slot assigned to a queued ticket, 'queued' while it waits, 'lost' when Redis forgot it. */
  async takeAssignment(ticket: string): Promise<Lease | 'queued' | 'lost'> {
    const reply = (await this.script('takeAssignment', [this.keys.assigned(ticket), this.keys.tickets], [ticket])) as string[];
    if (reply[0] === 'claimed') return toLease(reply);
    return reply[0] === 'queued' ? 'queued' : 'lost';
  }

  /** Withdraws a ticket; returns the slot if one was assigned meanwhile (use it or releaseClaim it). */
  async cancelTicket(ticket: string): Promise<Lease | null> {
    const k = this.keys;
    const reply = (await this.script('cancelTicket', [k.waiters, k.tickets, k.assigned(ticket)], [ticket])) as string[];
    return reply[0] === 'claimed' ? toLease(reply) : null;
  }

  /** Claims an idle slot without waiting, or returns null (tools, tests, benchmarks). */
  async claimSlot(ttlMs: number, requestId: string): Promise<Lease | null> {
    const ticket = `now-${newToken()}`;
    const lease = await this.requestSlot({ ticket, routerId: 'none', deadline: Date.now() + 1, claimTtlMs: ttlMs, requestId });
    return lease === 'queued' ? this.cancelTicket(ticket) : lease;
  }

  /** Gives back a claim that was never handed to the worker (router). */
  async releaseClaim(lease: Lease): Promise<boolean> {
    const k = this.keys;
    const q = this.queueArgs();
    const reply = await this.script(
      'releaseClaim',
      [k.slot(lease.slotId), q.idle, q.leases, q.waiters, q.tickets],
      [lease.slotId, lease.token, Date.now(), k.slotPrefix, k.assignedPrefix, k.routerChannelPrefix],
    );
    return reply !== 0;
  }

  /** Takes a claimed slot whose worker cannot be reached out of service (router). */
  async markDead(lease: Lease): Promise<boolean> {
    return (await this.setSlotState(lease.host, lease.slotId, 'dead', lease.token)) === 1;
  }

  /**
   * Moves a slot to booting or dead; never takes a slot from a lease the caller does not hold.
   * @returns 1 changed, -1 no such slot, -2 busy under another token
   */
  async setSlotState(host: string, slotId: string, state: 'booting' | 'dead', token = ''): Promise<number> {
    const k = this.keys;
    return (await this.script('setSlotState', [k.slot(slotId), k.leases, k.running(host), k.idle], [slotId, state, token, Date.now()])) as number;
  }

  /** A fresh sandbox is ready on the slot: it goes to the oldest waiting request, or joins the idle list (worker). */
  async slotReady(host: string, slotId: string, token: string, pid: number, port: number): Promise<SlotReadyOutcome> {
    const k = this.keys;
    const reply = (await this.script(
      'releaseSlot',
      [k.slot(slotId), k.idle, k.leases, k.running(host), k.waiters, k.tickets],
      [slotId, token, Date.now(), pid, port, k.slotPrefix, k.assignedPrefix, k.routerChannelPrefix],
    )) as number;
    return ({ 1: 'idle', 2: 'assigned', 0: 'already_idle', [-1]: 'gone', [-2]: 'claimed_by_other' } as const)[reply as 1 | 2 | 0 | -1 | -2];
  }

  /** Uses up the lease's token and lists the sandbox for the watchdog (worker). */
  async startJob(host: string, sandbox: RunningSandbox, leaseMs: number): Promise<StartJobOutcome> {
    const k = this.keys;
    const reply = (await this.script(
      'startJob',
      [k.slot(sandbox.slotId), k.leases, k.running(host)],
      [sandbox.slotId, sandbox.token, Date.now(), leaseMs, JSON.stringify(sandbox), sandbox.pid, k.events, host],
    )) as number;
    return ({ 1: 'started', [-1]: 'no_slot', [-2]: 'bad_token', [-3]: 'token_used' } as const)[reply as 1 | -1 | -2 | -3];
  }

  /** Replaces the watchdog's entry of a running job (the worker swapped in another sandbox). */
  async updateRunning(host: string, sandbox: RunningSandbox): Promise<void> {
    await this.redis.hset(this.keys.running(host), sandbox.slotId, JSON.stringify(sandbox));
    await this.redis.publish(this.keys.events, `running ${host}`);
  }

  /** Why the watchdog killed the slot's sandbox, if it did. */
  async killReason(slotId: string): Promise<KillReason | null> {
    const reason = await this.redis.hget(this.keys.slot(slotId), 'killReason');
    return isKillReason(reason) ? reason : null;
  }

  /** The sandboxes running jobs on one host (watchdog). */
  async runningOn(host: string): Promise<RunningSandbox[]> {
    const entries = await this.redis.hvals(this.keys.running(host));
    const result: RunningSandbox[] = [];
    for (const entry of entries) {
      try {
        result.push(JSON.parse(entry) as RunningSandbox);
      } catch {
        // a malformed entry cannot be acted on; the slot's next release removes it
      }
    }
    return result;
  }

  /** Writes why a running sandbox is about to be killed; false when its job already ended (watchdog). */
  async recordKill(slotId: string, token: string, reason: KillReason): Promise<boolean> {
    return (await this.script('recordKill', [this.keys.slot(slotId)], [token, reason])) === 1;
  }

  /** Calls `onEvent` for inventory and running events until the returned function is called. */
  async subscribe(onEvent: (event: RegistryEvent) => void): Promise<() => Promise<void>> {
    return this.listen(this.keys.events, (message) => {
      const [type, arg = ''] = message.split(' ', 2);
      if (type === 'inventory' || type === 'running') onEvent({ type, host: arg });
    });
  }

  /** Calls `onAssigned(ticket)` when a slot is assigned to one of this router's tickets. */
  async subscribeRouter(routerId: string, onAssigned: (ticket: string) => void): Promise<() => Promise<void>> {
    return this.listen(this.keys.routerChannel(routerId), (message) => {
      const [type, ticket = ''] = message.split(' ', 2);
      if (type === 'assigned') onAssigned(ticket);
    });
  }

  /** A connection of its own subscribed to one channel (ioredis resubscribes after a reconnect). */
  private async listen(channel: string, onMessage: (message: string) => void): Promise<() => Promise<void>> {
    const sub = Registry.client(this.options);
    sub.on('error', (err: Error) => this.options.onError?.(err));
    this.subscribers.push(sub);
    sub.on('message', (_channel: string, message: string) => onMessage(message));
    await sub.connect();
    await sub.subscribe(channel);
    return async () => {
      this.subscribers.splice(this.subscribers.indexOf(sub), 1);
      await sub.quit().catch(() => sub.disconnect());
    };
  }

  /**
   * Admits one request of an API key against its rate (per minute) and concurrency limits,
   * shared by every router. `holdMs` bounds how long the request counts if its router dies.
   */
  async admitKey(
    keyName: string,
    requestId: string,
    limits: { ratePerMinute: number; maxConcurrent: number; holdMs: number },
  ): Promise<{ admitted: true } | { admitted: false; limit: 'rate' | 'concurrency'; retryAfterMs: number }> {
    const now = Date.now();
    const window = Math.floor(now / RATE_WINDOW_MS);
    const [code, retryAfterMs] = (await this.script(
      'admitKey',
      [this.keys.keyRate(keyName, window), this.keys.keyInFlight(keyName)],
      [now, limits.ratePerMinute, RATE_WINDOW_MS, limits.maxConcurrent, requestId, limits.holdMs],
    )) as [number, number];
    if (code === 1) return { admitted: true };
    return { admitted: false, limit: code === -1 ? 'rate' : 'concurrency', retryAfterMs: Math.max(0, retryAfterMs) };
  }

  /** The request of an API key has ended: it no longer counts against its concurrency. */
  async releaseKey(keyName: string, requestId: string): Promise<void> {
    await this.redis.zrem(this.keys.keyInFlight(keyName), requestId);
  }

  /** Counts a watchdog kill by reason (shown by every router's /metrics). */
  async countKill(reason: KillReason): Promise<void> {
    await this.redis.hincrby(this.keys.stats, `kills:${reason}`, 1);
  }

  /** Watchdog kills by reason, over the whole fleet. */
  async killCounts(): Promise<Record<string, number>> {
    const stats = await this.redis.hgetall(this.keys.stats);
    const kills: Record<string, number> = {};
    for (const [field, value] of Object.entries(stats)) if (field.startsWith('kills:')) kills[field.slice(6)] = Number(value);
    return kills;
  }

  /**
   * The registry's epoch: written once, so a change (or absence, before the first write) means
   * Redis lost its data and every service must publish again what it holds.
   */
  async epoch(): Promise<string> {
    await this.redis.set(this.keys.epoch, newToken(), 'NX');
    return (await this.redis.get(this.keys.epoch)) ?? '';
  }

  /** A worker says it is alive; the key vanishes `ttlMs` after its last beat. */
  async heartbeat(host: string, ttlMs: number): Promise<void> {
    await this.redis.set(this.keys.heartbeat(host), String(Date.now()), 'PX', ttlMs);
  }

  /** Puts back a job the worker still runs after Redis lost its data (worker). */
  async restoreJob(host: string, sandbox: RunningSandbox, leaseMs: number): Promise<boolean> {
    const k = this.keys;
    const reply = await this.script(
      'restoreJob',
      [k.slot(sandbox.slotId), k.leases, k.running(host)],
      [sandbox.slotId, sandbox.token, Date.now(), leaseMs, JSON.stringify(sandbox), sandbox.pid, k.events, host],
    );
    return reply === 1;
  }

  /** Takes every slot of a host whose worker's heartbeat expired out of service (watchdog). */
  async markHostDead(host: string): Promise<number> {
    const k = this.keys;
    return (await this.script('markHostDead', [k.hostSlots(host), k.idle, k.leases, k.running(host), k.heartbeat(host)], [k.slotPrefix, Date.now(), k.events, host])) as number;
  }

  /** Runs `listener` each time the connection to Redis is ready again after a loss. */
  onReconnect(listener: () => void): void {
    this.redis.on('ready', listener); // registered after connect: every 'ready' from now on is a reconnect
  }

  /**
   * The running jobs of a host whose lease has expired: their worker is gone or stuck (watchdog).
   * `running` saves reading them again when the caller has just done so.
   */
  async expiredRunning(host: string, running?: RunningSandbox[]): Promise<RunningSandbox[]> {
    running ??= await this.runningOn(host);
    if (running.length === 0) return [];
    const scores = await this.redis.zmscore(this.keys.leases, ...running.map((r) => r.slotId));
    const now = Date.now();
    return running.filter((_, i) => scores[i] === null || Number(scores[i]) < now);
  }

  /** Whether a host's worker has beaten recently. */
  async workerAlive(host: string): Promise<boolean> {
    return (await this.redis.exists(this.keys.heartbeat(host))) === 1;
  }

  /** Direct access for tests and the pool checker. */
  get client(): Redis {
    return this.redis;
  }
}

function toSlots(replies: [Error | null, unknown][]): SlotRecord[] {
  const slots: SlotRecord[] = [];
  for (const [err, hash] of replies) {
    if (err) throw err;
    const slot = toSlot(hash as Record<string, string>);
    if (slot) slots.push(slot);
  }
  return slots.sort(compareSlots);
}

function toLease(reply: string[]): Lease {
  const [, slotId = '', ip = '', port = '0', host = '', token = ''] = reply;
  return { slotId, ip, port: Number(port), host, token };
}

function compareSlots(a: SlotRecord, b: SlotRecord): number {
  if (a.host !== b.host) return a.host < b.host ? -1 : 1;
  const ai = Number(a.id.slice(a.id.lastIndexOf(':') + 1));
  const bi = Number(b.id.slice(b.id.lastIndexOf(':') + 1));
  return ai - bi;
}
