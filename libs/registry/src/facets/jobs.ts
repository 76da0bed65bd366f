import { isKillReason, type KillReason, type RunningSandbox } from '@corral/contracts';
import { jobFields } from '../records';
import type { FacetDeps } from './deps';

export type StartJobOutcome = 'started' | 'no_slot' | 'bad_token' | 'token_used';

const START = { OK: 'started', NO_SLOT: 'no_slot', NOT_HOLDER: 'bad_token', TOKEN_USED: 'token_used' } as const;

/** What the stats HASH's kill counters start with. */
const KILLS = 'kills:';

/**
 * The job ledger: which jobs run where (the watchdog's view), why one was killed, and the kill
 * counts every router shows.
 */
export class JobLedger {
  constructor(private readonly d: FacetDeps) {}

  /** Uses up the lease's token and lists the job for the watchdog (worker). */
  async start(host: string, job: RunningSandbox, leaseMs: number): Promise<StartJobOutcome> {
    return START[await this.d.scripts.startJob(host, job, leaseMs)];
  }

  /** Replaces the watchdog's entry of a running job (the worker swapped in another sandbox). */
  async update(host: string, job: RunningSandbox): Promise<void> {
    const k = this.d.keys;
    const sharded = this.d.connection.shardedPubSub;
    await this.d.connection.run((redis) => {
      const tx = redis.multi().del(k.job(job.slotId)).hset(k.job(job.slotId), ...jobFields(job)).sadd(k.running(host), job.slotId);
      return (sharded ? tx.spublish(k.events, `running ${host}`) : tx.publish(k.events, `running ${host}`)).exec();
    });
  }

  /** Puts back a job the worker still runs after Redis lost its data (worker); false when the slot is in service or gone. */
  async restore(host: string, job: RunningSandbox, leaseMs: number): Promise<boolean> {
    return (await this.d.scripts.restoreJob(host, job, leaseMs)) === 'OK';
  }

  /** The jobs running on one host (watchdog). */
  runningOn(host: string): Promise<RunningSandbox[]> {
    return this.d.scripts.listJobs(host);
  }

  /**
   * The running jobs of a host whose lease has expired: their worker is gone or stuck (watchdog).
   * `running` saves reading them again when the caller has just done so.
   */
  async expired(host: string, running?: RunningSandbox[]): Promise<RunningSandbox[]> {
    running ??= await this.runningOn(host);
    if (running.length === 0) return [];
    const ids = running.map((r) => r.slotId);
    const scores = await this.d.connection.run((redis) => redis.zmscore(this.d.keys.leases, ...ids));
    const now = Date.now();
    return running.filter((_, i) => scores[i] === null || Number(scores[i]) < now);
  }

  /** Writes why a running job is about to be killed; false when its job is not running under the token (watchdog). */
  async recordKill(slotId: string, token: string, reason: KillReason): Promise<boolean> {
    return (await this.d.scripts.recordKill(slotId, token, reason)) === 'OK';
  }

  /** Why the watchdog killed the slot's sandbox, if it did. */
  async killReason(slotId: string): Promise<KillReason | null> {
    const reason = await this.d.connection.run((redis) => redis.hget(this.d.keys.slot(slotId), 'killReason'));
    return isKillReason(reason) ? reason : null;
  }

  /** Counts a watchdog kill by reason (shown by every router's /metrics). */
  async countKill(reason: KillReason): Promise<void> {
    await this.d.connection.run((redis) => redis.hincrby(this.d.keys.stats, `${KILLS}${reason}`, 1));
  }

  /** Watchdog kills by reason, over the whole fleet. */
  async killCounts(): Promise<Record<string, number>> {
    const stats = await this.d.connection.run((redis) => redis.hgetall(this.d.keys.stats));
    const kills: Record<string, number> = {};
    for (const [field, value] of Object.entries(stats)) if (field.startsWith(KILLS)) kills[field.slice(KILLS.length)] = Number(value);
    return kills;
  }
}
