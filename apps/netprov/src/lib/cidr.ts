import { formatIpv4, parseIpv4 } from './ipv4';
import { PlanError } from './loopback';

/** An IPv4 network in CIDR notation, as numbers. */
export interface Cidr {
  text: string;
  network: number;
  prefixLength: number;
  /** First and last usable host address (network and broadcast addresses excluded, except in a /31 or /32). */
  first: number;
  last: number;
}

/** Slot addresses never leave these: RFC 1918 private ranges. */
export const PRIVATE_RANGES = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'] as const;
export const DEFAULT_CIDR = '172.16.0.0/12';

const CIDR_PATTERN = /^([0-9.]+)\/(\d{1,2})$/;

function bounds(network: number, prefixLength: number): { start: number; end: number } {
  const size = 2 ** (32 - prefixLength);
  return { start: network, end: network + size - 1 };
}

function parseRaw(text: string): { network: number; prefixLength: number } | null {
  const match = CIDR_PATTERN.exec(text);
  if (!match) return null;
  const address = parseIpv4(match[1] ?? '');
  const prefixLength = Number(match[2]);
  if (address === null || prefixLength > 32) return null;
  return { network: address, prefixLength };
}

const PRIVATE = PRIVATE_RANGES.map((range) => {
  const raw = parseRaw(range) as { network: number; prefixLength: number };
  return bounds(raw.network, raw.prefixLength);
});

/**
 * Parses and checks a slot range: well formed, host bits zero, inside one RFC 1918 range.
 * @throws PlanError with a message that says what is wrong and what would be right
 */
export function parseCidr(text: string, flag = '--cidr'): Cidr {
  const raw = parseRaw(text);
  if (!raw) throw new PlanError(`${flag} ${JSON.stringify(text)} is not an IPv4 range in CIDR notation (e.g. ${DEFAULT_CIDR}).`);
  const { start, end } = bounds(raw.network, raw.prefixLength);
  const network = Math.floor(raw.network / 2 ** (32 - raw.prefixLength)) * 2 ** (32 - raw.prefixLength);
  if (network !== raw.network) {
    throw new PlanError(`${flag} ${text} has host bits set; did you mean ${formatIpv4(network)}/${raw.prefixLength}?`);
  }
  if (!PRIVATE.some((p) => start >= p.start && end <= p.end)) {
    throw new PlanError(`${flag} ${text} is not inside a private range (${PRIVATE_RANGES.join(', ')}); slot addresses must never be public.`);
  }
  const small = raw.prefixLength >= 31;
  return { text, network, prefixLength: raw.prefixLength, first: small ? start : start + 1, last: small ? end : end - 1 };
}

export function usableCount(cidr: Cidr): number {
  return cidr.last - cidr.first + 1;
}

/**
 * The first `count` usable addresses of the range, in order.
 * @throws PlanError when the range is too small
 */
export function slotAddresses(cidr: Cidr, count: number, flag = '--cidr'): string[] {
  const room = usableCount(cidr);
  if (count > room) throw new PlanError(`--count ${count} does not fit: ${flag} ${cidr.text} has ${room} usable addresses.`);
  return Array.from({ length: count }, (_, i) => formatIpv4(cidr.first + i));
}
