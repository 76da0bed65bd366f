import type { Backend, KillReason, Lease, RunningSandbox, SlotAddress } from '@corral/contracts';
import type { KeySchema } from './keys';
import { fromPairs, jobFields, toLease, toRunningSandbox } from './records';
import { readReply, type ReplyName } from './reply-codes';
import type { ScriptCaller, ScriptName } from './scripts';

/**
 * The reply codes each script can give: its wrapper accepts these and no other (the spec checks
 * the list against the codes each Lua file names).
 */
export const SCRIPT_REPLIES = {
  publishInventory: ['OK'],
  requestSlot: ['CLAIMED', 'QUEUED', 'RESERVED'],
  takeAssignment: ['CLAIMED', 'QUEUED', 'TICKET_LOST'],
  cancelTicket: ['CLAIMED', 'CANCELLED'],
  releaseClaim: ['IDLE', 'ASSIGNED', 'NOT_HOLDER', 'TOKEN_USED'],
  reclaimClaims: ['OK'],
  releaseSlot: ['IDLE', 'ASSIGNED', 'ALREADY_IDLE', 'NO_SLOT', 'NOT_HOLDER'],
  setSlotState: ['OK', 'NO_SLOT', 'NOT_HOLDER'],
  startJob: ['OK', 'NO_SLOT', 'NOT_HOLDER', 'TOKEN_USED'],
  restoreJob: ['OK', 'NO_SLOT', 'IN_SERVICE'],
  listJobs: ['OK'],
  recordKill: ['OK', 'NOT_HOLDER', 'NOT_STARTED'],
  admitKey: ['OK', 'OVER_RATE', 'OVER_CONCURRENCY'],
  markHostDead: ['OK', 'HOST_ALIVE'],
  startExecution: ['OK', 'FINAL', 'NO_RECORD'],
  handOverExecution: ['OK', 'CANCELLED', 'NO_RECORD'],
  finishExecution: ['OK', 'FINAL', 'NO_RECORD'],
  cancelExecution: ['CANCELLED', 'CANCEL_REQUESTED', 'FINAL', 'NO_RECORD'],
  setWebhook: ['OK', 'NO_RECORD'],
} as const satisfies Record<ScriptName, readonly ReplyName[]>;

type Replies = typeof SCRIPT_REPLIES;
export type ReplyOf<S extends ScriptName> = Replies[S][number];

/** A lease, or the code a queue script gave instead. */
export type LeaseReply<S extends 'requestSlot' | 'takeAssignment' | 'cancelTicket'> = Lease | Exclude<ReplyOf<S>, 'CLAIMED'>;

/** The ticket a router queues for one request (see SlotRequest). */
export interface TicketArgs {
  ticket: string;
  routerId: string;
  deadline: number;
  claimTtlMs: number;
  requestId: string;
  token: string;
  /** Background work: claim only while more than this many slots are idle and nobody waits; never queue. */
  reserve?: number;
}

/**
 * One thin wrapper per Lua script: typed arguments in (keys built from the key schema, `now`
 * passed in ARGV), the script's reply code out as a name, a lease or counts parsed from it.
 */
export class Scripts {
  constructor(
    private readonly call: ScriptCaller,
    private readonly k: KeySchema,
  ) {}

  private async run<S extends ScriptName>(script: S, keys: string[], args: (string | number)[]): Promise<{ code: ReplyOf<S>; rest: unknown[] }> {
    return readReply(script, await this.call(script, keys, args), SCRIPT_REPLIES[script] as readonly ReplyOf<S>[]);
  }

  private async lease<S extends 'requestSlot' | 'takeAssignment' | 'cancelTicket'>(script: S, keys: string[], args: (string | number)[]): Promise<LeaseReply<S>> {
    const { code, rest } = await this.run(script, keys, args);
    return code === 'CLAIMED' ? toLease(rest) : (code as LeaseReply<S>);
  }

  async publishInventory(host: string, backend: Backend, slots: readonly SlotAddress[]): Promise<{ added: number; removed: number; changed: number }> {
    const k = this.k;
    const triples = slots.flatMap((s) => [s.id, s.ip, s.netns ?? '']);
    const { rest } = await this.run(
      'publishInventory',
      [k.slots, k.hostSlots(host), k.leases, k.running(host), k.idle],
      [k.slotPrefix, host, backend, Date.now(), k.events, k.jobPrefix, ...triples],
    );
    const [added, removed, changed] = rest.map(Number) as [number, number, number];
    return { added, removed, changed };
  }

  requestSlot(t: TicketArgs): Promise<LeaseReply<'requestSlot'>> {
    const k = this.k;
    return this.lease(
      'requestSlot',
      [k.idle, k.leases, k.waiters, k.ticket(t.ticket)],
      [k.slotPrefix, k.runningPrefix, k.jobPrefix, k.ticketPrefix, k.assignedPrefix, k.routerChannelPrefix, Date.now(), t.claimTtlMs, t.ticket, t.deadline, t.routerId, t.token, t.requestId, t.reserve ?? 0],
    );
  }

  takeAssignment(ticket: string): Promise<LeaseReply<'takeAssignment'>> {
    return this.lease('takeAssignment', [this.k.assigned(ticket), this.k.ticket(ticket)], []);
  }

  cancelTicket(ticket: string): Promise<LeaseReply<'cancelTicket'>> {
    const k = this.k;
    return this.lease('cancelTicket', [k.waiters, k.ticket(ticket), k.assigned(ticket)], [ticket]);
  }

  async releaseClaim(lease: Lease): Promise<ReplyOf<'releaseClaim'>> {
    const k = this.k;
    const { code } = await this.run(
      'releaseClaim',
      [k.slot(lease.slotId), k.idle, k.leases, k.waiters],
      [lease.slotId, lease.token, Date.now(), k.slotPrefix, k.ticketPrefix, k.assignedPrefix, k.routerChannelPrefix],
    );
    return code;
  }

  /** How many expired claims were given back (at most `limit` expired leases are looked at). */
  async reclaimClaims(limit: number): Promise<number> {
    const k = this.k;
    const { rest } = await this.run('reclaimClaims', [k.idle, k.leases, k.waiters], [k.slotPrefix, k.ticketPrefix, k.assignedPrefix, k.routerChannelPrefix, Date.now(), limit]);
    return Number(rest[0]);
  }

  async releaseSlot(host: string, slotId: string, token: string, pid: number, port: number): Promise<ReplyOf<'releaseSlot'>> {
    const k = this.k;
    const { code } = await this.run(
      'releaseSlot',
      [k.slot(slotId), k.idle, k.leases, k.running(host), k.waiters, k.job(slotId)],
      [slotId, token, Date.now(), pid, port, k.slotPrefix, k.ticketPrefix, k.assignedPrefix, k.routerChannelPrefix],
    );
    return code;
  }

  async setSlotState(host: string, slotId: string, state: 'booting' | 'dead', token: string): Promise<ReplyOf<'setSlotState'>> {
    const k = this.k;
    const { code } = await this.run('setSlotState', [k.slot(slotId), k.leases, k.running(host), k.idle, k.job(slotId)], [slotId, state, token, Date.now()]);
    return code;
  }

  /** startJob and restoreJob take the same arguments: the job, its lease, its entry for the watchdog. */
  private async putJob<S extends 'startJob' | 'restoreJob'>(script: S, host: string, job: RunningSandbox, leaseMs: number): Promise<ReplyOf<S>> {
    const k = this.k;
    const { code } = await this.run(
      script,
      [k.slot(job.slotId), k.leases, k.running(host), k.job(job.slotId)],
      [job.slotId, job.token, Date.now(), leaseMs, job.pid, k.events, host, ...jobFields(job)],
    );
    return code;
  }

  startJob(host: string, job: RunningSandbox, leaseMs: number): Promise<ReplyOf<'startJob'>> {
    return this.putJob('startJob', host, job, leaseMs);
  }

  restoreJob(host: string, job: RunningSandbox, leaseMs: number): Promise<ReplyOf<'restoreJob'>> {
    return this.putJob('restoreJob', host, job, leaseMs);
  }

  /** The jobs listed on a host; malformed entries are left out (nothing can act on them). */
  async listJobs(host: string): Promise<RunningSandbox[]> {
    const { rest } = await this.run('listJobs', [this.k.running(host)], [this.k.jobPrefix]);
    return rest.map((pairs) => toRunningSandbox(fromPairs(pairs as unknown[]))).filter((job): job is RunningSandbox => job !== null);
  }

  async recordKill(slotId: string, token: string, reason: KillReason): Promise<ReplyOf<'recordKill'>> {
    const { code } = await this.run('recordKill', [this.k.slot(slotId)], [token, reason]);
    return code;
  }

  async admitKey(
    keyName: string,
    a: { now: number; window: number; windowMs: number; ratePerWindow: number; maxConcurrent: number; requestId: string; holdMs: number; rateWeight: number; inFlight: boolean },
  ): Promise<{ code: ReplyOf<'admitKey'>; retryAfterMs: number }> {
    const { code, rest } = await this.run(
      'admitKey',
      [this.k.keyRate(keyName, a.window), this.k.keyInFlight(keyName)],
      [a.now, a.ratePerWindow, a.windowMs, a.maxConcurrent, a.requestId, a.holdMs, a.rateWeight, a.inFlight ? 1 : 0],
    );
    return { code, retryAfterMs: Math.max(0, Number(rest[0] ?? 0)) };
  }

  /** How many slots of the host were taken out of service; 0 when its worker beat again meanwhile. */
  async markHostDead(host: string): Promise<number> {
    const k = this.k;
    const { code, rest } = await this.run(
      'markHostDead',
      [k.hostSlots(host), k.idle, k.leases, k.running(host), k.heartbeat(host)],
      [k.slotPrefix, k.jobPrefix, Date.now(), k.events, host],
    );
    return code === 'OK' ? Number(rest[0]) : 0;
  }

  async startExecution(record: string): Promise<{ code: ReplyOf<'startExecution'>; attempts: number }> {
    const { code, rest } = await this.run('startExecution', [record], []);
    return { code, attempts: Number(rest[0] ?? 0) };
  }

  async handOverExecution(record: string, now: string): Promise<ReplyOf<'handOverExecution'>> {
    return (await this.run('handOverExecution', [record], [now])).code;
  }

  async finishExecution(record: string, state: string, field: string, json: string, now: string, keepMs: number): Promise<ReplyOf<'finishExecution'>> {
    return (await this.run('finishExecution', [record], [state, field, json, now, keepMs])).code;
  }

  async cancelExecution(record: string, now: string, keepMs: number, channel: string, id: string): Promise<{ code: ReplyOf<'cancelExecution'>; state: string | undefined }> {
    const { code, rest } = await this.run('cancelExecution', [record], [now, keepMs, channel, id]);
    return { code, state: typeof rest[0] === 'string' ? rest[0] : undefined };
  }

  async setWebhook(record: string, json: string): Promise<ReplyOf<'setWebhook'>> {
    return (await this.run('setWebhook', [record], [json])).code;
  }
}
