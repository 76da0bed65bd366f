import { isIP } from 'node:net';
import type { EnvReader } from './env';

/**
 * One destination webhooks may go to: a host name (exactly that name, any port unless given),
 * an IP address, or a CIDR range (any port unless given: `10.0.0.0/8`, `127.0.0.1:9000`,
 * `[::1]:8080`, `hooks.example.com:443`).
 */
export type WebhookAllowEntry =
  | { kind: 'host'; host: string; port: number | null }
  | { kind: 'cidr'; address: string; prefix: number; family: 'ipv4' | 'ipv6'; port: number | null };

export interface WebhookConfig {
  /** Signs every delivery (HMAC-SHA256); an API key's own `webhookSecret` takes its place for its executions. */
  secret: string | undefined;
  /** Empty: callbacks are refused. */
  allow: readonly WebhookAllowEntry[];
  /** Attempts per delivery, the first included. */
  attempts: number;
  /** The first retry's delay; each next one doubles (with jitter). */
  backoffMs: number;
  /** How long one attempt may take. */
  timeoutMs: number;
}

const HOST_NAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/u;

function splitPort(text: string): { host: string; port: number | null } | null {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/u.exec(text);
  if (bracketed) return { host: bracketed[1] as string, port: bracketed[2] === undefined ? null : Number(bracketed[2]) };
  const colons = text.split(':').length - 1;
  if (colons === 1) {
    const [host, port] = text.split(':') as [string, string];
    return /^\d+$/u.test(port) ? { host, port: Number(port) } : null;
  }
  return { host: text, port: null };
}

/** One entry of CORRAL_WEBHOOK_ALLOW, or why it is not one. */
export function parseAllowEntry(raw: string): WebhookAllowEntry | string {
  const text = raw.trim().toLowerCase();
  const slash = text.indexOf('/');
  if (slash >= 0) {
    const address = text.slice(0, slash);
    const prefix = Number(text.slice(slash + 1));
    const family = isIP(address);
    const max = family === 4 ? 32 : 128;
    if (family === 0 || !/^\d+$/u.test(text.slice(slash + 1)) || prefix > max) return `"${raw}" is not a CIDR range (10.0.0.0/8, fd00::/8)`;
    return { kind: 'cidr', address, prefix, family: family === 4 ? 'ipv4' : 'ipv6', port: null };
  }
  const split = splitPort(text);
  if (!split || (split.port !== null && (split.port < 1 || split.port > 65_535))) return `"${raw}" has a port that is not 1-65535`;
  const family = isIP(split.host);
  if (family !== 0) return { kind: 'cidr', address: split.host, prefix: family === 4 ? 32 : 128, family: family === 4 ? 'ipv4' : 'ipv6', port: split.port };
  if (!HOST_NAME.test(split.host)) return `"${raw}" is not a host name, host:port, IP address or CIDR range`;
  return { kind: 'host', host: split.host, port: split.port };
}

/** CORRAL_WEBHOOK_* (router). */
export function webhookConfig(r: EnvReader): WebhookConfig {
  const allow: WebhookAllowEntry[] = [];
  for (const raw of (r.optionalString('CORRAL_WEBHOOK_ALLOW') ?? '').split(',').filter((e) => e.trim() !== '')) {
    const entry = parseAllowEntry(raw);
    if (typeof entry === 'string') r.problem(`CORRAL_WEBHOOK_ALLOW: ${entry}`);
    else allow.push(entry);
  }
  const secret = r.optionalString('CORRAL_WEBHOOK_SECRET');
  if (secret !== undefined && secret.length < 16) r.problem('CORRAL_WEBHOOK_SECRET must be at least 16 characters');
  return {
    secret,
    allow,
    attempts: r.int('CORRAL_WEBHOOK_ATTEMPTS', 5, { min: 1, max: 50 }),
    backoffMs: r.int('CORRAL_WEBHOOK_BACKOFF_MS', 1000, { min: 1, max: 3_600_000 }),
    timeoutMs: r.int('CORRAL_WEBHOOK_TIMEOUT_MS', 5000, { min: 100, max: 120_000 }),
  };
}
