import { slotId, type SlotAddress } from '@corral/contracts';
import { formatIpv4, parseIpv4 } from './ipv4';

const LOOPBACK_FIRST = parseIpv4('127.0.0.1') as number;
const LOOPBACK_LAST = parseIpv4('127.255.255.254') as number;

/** Bad input to netprov: a clear message, and nothing has been changed. */
export class PlanError extends Error {
  override name = 'PlanError';
}

/**
 * The loopback backend: `count` consecutive addresses from `base` in 127.0.0.0/8 (Linux routes
 * every one of them to lo, so nothing needs creating; the slots exist once published).
 * @throws PlanError for a malformed base, a base outside 127/8, or a count that does not fit
 */
export function planLoopback(host: string, count: number, base: string): SlotAddress[] {
  if (!Number.isInteger(count) || count < 1) throw new PlanError(`--count must be a whole number of at least 1, got ${count}.`);
  const first = parseIpv4(base);
  if (first === null) throw new PlanError(`--base ${JSON.stringify(base)} is not an IPv4 address.`);
  if (first < LOOPBACK_FIRST || first > LOOPBACK_LAST) {
    throw new PlanError(`--base ${base} is outside 127.0.0.1–127.255.255.254; the loopback backend uses 127.0.0.0/8 only.`);
  }
  const room = LOOPBACK_LAST - first + 1;
  if (count > room) throw new PlanError(`--count ${count} does not fit: from ${base} there are ${room} loopback addresses.`);
  return Array.from({ length: count }, (_, i) => ({ id: slotId(host, i), ip: formatIpv4(first + i) }));
}
