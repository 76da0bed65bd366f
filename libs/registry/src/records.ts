import { randomBytes } from 'node:crypto';
import { SLOT_PHASES, SLOT_STATES, type Backend, type Lease, type RunningSandbox, type SandboxCgroupFiles, type SlotPhase, type SlotRecord, type SlotState } from '@corral/contracts';

/**
 * Records as Redis keeps them (HASH fields) and as TypeScript reads them. Every record is a
 * HASH, never a joined string: a slot, a ticket, an assigned lease, a running job.
 */

/** A fresh one-time token (a lease's, the epoch's). */
export function newToken(): string {
  return randomBytes(18).toString('base64url');
}

/** A slot record from its HASH; null when the HASH is gone. */
export function toSlot(hash: Record<string, string>): SlotRecord | null {
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
    ...(state === 'busy' && (SLOT_PHASES as readonly string[]).includes(hash['phase'] ?? '') ? { phase: hash['phase'] as SlotPhase } : {}),
    ...(hash['netns'] ? { netns: hash['netns'] } : {}),
  };
}

/** Slots from a pipeline or transaction of HGETALLs, ordered by host and index. */
export function toSlots(replies: [Error | null, unknown][]): SlotRecord[] {
  const slots: SlotRecord[] = [];
  for (const [err, hash] of replies) {
    if (err) throw err;
    const slot = toSlot(hash as Record<string, string>);
    if (slot) slots.push(slot);
  }
  return slots.sort(compareSlots);
}

function compareSlots(a: SlotRecord, b: SlotRecord): number {
  if (a.host !== b.host) return a.host < b.host ? -1 : 1;
  const ai = Number(a.id.slice(a.id.lastIndexOf(':') + 1));
  const bi = Number(b.id.slice(b.id.lastIndexOf(':') + 1));
  return ai - bi;
}

/** Field/value pairs (a HGETALL or a script's reply) as an object. */
export function fromPairs(pairs: unknown[]): Record<string, string> {
  const hash: Record<string, string> = {};
  for (let i = 0; i + 1 < pairs.length; i += 2) hash[String(pairs[i])] = String(pairs[i + 1]);
  return hash;
}

/** A lease from the field/value pairs a script replies after CLAIMED (see lua/includes/assignment.lua). */
export function toLease(pairs: unknown[]): Lease {
  const f = fromPairs(pairs);
  return { slotId: f['slotId'] ?? '', ip: f['ip'] ?? '', port: Number(f['port'] ?? 0), host: f['host'] ?? '', token: f['token'] ?? '' };
}

/** A running job as the field/value pairs of its HASH (`cgroup`, a nested record, as JSON). */
export function jobFields(job: RunningSandbox): string[] {
  const fields = [
    'slotId', job.slotId,
    'token', job.token,
    'pid', String(job.pid),
    'pgid', String(job.pgid),
    'cpuBaseMs', String(job.cpuBaseMs),
    'cpuMs', String(job.cpuMs),
    'memoryMb', String(job.memoryMb),
    'startedAt', String(job.startedAt),
  ];
  if (job.cgroup) fields.push('cgroup', JSON.stringify(job.cgroup));
  return fields;
}

const NUMBER_FIELDS = ['pid', 'pgid', 'cpuBaseMs', 'cpuMs', 'memoryMb', 'startedAt'] as const;

/** A running job from its HASH; null when it is gone or malformed (nothing to act on). */
export function toRunningSandbox(hash: Record<string, string>): RunningSandbox | null {
  const { slotId, token } = hash;
  if (!slotId || !token) return null;
  const numbers = NUMBER_FIELDS.map((field) => Number(hash[field]));
  if (numbers.some((n) => !Number.isFinite(n))) return null;
  const [pid, pgid, cpuBaseMs, cpuMs, memoryMb, startedAt] = numbers as [number, number, number, number, number, number];
  let cgroup: SandboxCgroupFiles | undefined;
  if (hash['cgroup']) {
    try {
      cgroup = JSON.parse(hash['cgroup']) as SandboxCgroupFiles;
    } catch {
      return null;
    }
  }
  return { slotId, token, pid, pgid, cpuBaseMs, cpuMs, memoryMb, startedAt, ...(cgroup ? { cgroup } : {}) };
}
