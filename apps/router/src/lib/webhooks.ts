import { createHmac } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { BlockList, isIP } from 'node:net';
import type { WebhookAllowEntry } from '@corral/config';
import { CorralError } from '@corral/contracts';

/**
 * Addresses a callback may reach only when an IP or CIDR entry of the allow-list names them:
 * a host name allowed by name must still resolve outside these, so that it cannot be pointed
 * (by its DNS) at Redis, a worker, the host itself or a cloud metadata address.
 */
const SPECIAL = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  SPECIAL.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['::ffff:0:0', 96],
  ['64:ff9b::', 96],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const)
  SPECIAL.addSubnet(net, prefix, 'ipv6');

type Resolver = (host: string) => Promise<{ address: string; family: number }[]>;

const systemResolver: Resolver = (host) => lookup(host, { all: true, verbatim: true });

/** Where a callback may go: CORRAL_WEBHOOK_ALLOW, checked after DNS, at submission and at every attempt. */
export class WebhookPolicy {
  private readonly ranges: { list: BlockList; port: number | null }[];
  private readonly hosts: { host: string; port: number | null }[];

  constructor(
    allow: readonly WebhookAllowEntry[],
    private readonly resolve: Resolver = systemResolver,
  ) {
    this.hosts = allow.filter((e) => e.kind === 'host').map((e) => ({ host: e.host, port: e.port }));
    this.ranges = allow.flatMap((e) => {
      if (e.kind !== 'cidr') return [];
      const list = new BlockList();
      list.addSubnet(e.address, e.prefix, e.family);
      return [{ list, port: e.port }];
    });
  }

  get enabled(): boolean {
    return this.hosts.length + this.ranges.length > 0;
  }

  private inRanges(address: string, port: number): boolean {
    const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    return this.ranges.some((r) => (r.port === null || r.port === port) && r.list.check(address, family));
  }

  /**
   * The address to connect to for `url`: every address its host resolves to must be allowed,
   * so that a name cannot lead anywhere the allow-list does not say.
   * @throws CorralError callback_refused
   */
  async destination(url: string): Promise<{ url: URL; address: string; port: number }> {
    const parsed = new URL(url);
    const port = parsed.port ? Number(parsed.port) : parsed.protocol === 'https:' ? 443 : 80;
    const host = parsed.hostname.replace(/^\[|\]$/gu, '').toLowerCase();
    const refuse = (why: string): never => {
      throw new CorralError('callback_refused', `callbackUrl ${parsed.protocol}//${parsed.host}: ${why}.`);
    };
    if (!this.enabled) refuse('webhooks are off on this server (CORRAL_WEBHOOK_ALLOW is empty)');
    if (isIP(host) !== 0) {
      if (!this.inRanges(host, port)) refuse('the address and port are not in CORRAL_WEBHOOK_ALLOW');
      return { url: parsed, address: host, port };
    }
    const byName = this.hosts.some((h) => h.host === host && (h.port === null || h.port === port));
    let addresses: { address: string; family: number }[];
    try {
      addresses = await this.resolve(host);
    } catch {
      return refuse('the host name does not resolve');
    }
    if (addresses.length === 0) refuse('the host name does not resolve');
    for (const { address, family } of addresses) {
      const ranged = this.inRanges(address, port);
      if (ranged) continue;
      if (!byName) refuse('the host and port are not in CORRAL_WEBHOOK_ALLOW');
      if (SPECIAL.check(address, family === 6 ? 'ipv6' : 'ipv4')) refuse(`it resolves to ${address}, a private, loopback or link-local address no IP entry of CORRAL_WEBHOOK_ALLOW names`);
    }
    return { url: parsed, address: (addresses[0] as { address: string }).address, port };
  }
}

/** `sha256=<hex HMAC-SHA256 of the body>`: what X-Corral-Signature carries. */
export function signature(secret: string, body: Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export interface DeliveryOutcome {
  httpStatus: number | null;
  ok: boolean;
  error?: string;
  durationMs: number;
}

/** At most this much of a receiver's answer is read (and thrown away). */
const ANSWER_BYTES = 64 * 1024;

/**
 * One attempt: POSTs `body` (or PUTs it: Judge0's callbacks) to the checked address (never to what
 * the name resolves to by the time the connection is made), redirects not followed, within
 * `timeoutMs`. A 2xx is delivered.
 */
export function postWebhook(
  destination: { url: URL; address: string; port: number },
  body: Buffer,
  headers: Record<string, string>,
  timeoutMs: number,
  method: 'POST' | 'PUT' = 'POST',
): Promise<DeliveryOutcome> {
  const started = Date.now();
  const { url, address, port } = destination;
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    let done = false;
    const finish = (outcome: Omit<DeliveryOutcome, 'durationMs'>): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve({ ...outcome, durationMs: Date.now() - started });
    };
    const req = send({
      host: address,
      port,
      method,
      path: `${url.pathname}${url.search}`,
      headers: { ...headers, host: url.host, 'content-type': 'application/json', 'content-length': String(body.length) },
      ...(url.protocol === 'https:' && isIP(url.hostname) === 0 ? { servername: url.hostname } : {}),
      agent: false,
    });
    const timer = setTimeout(() => req.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    req.on('error', (err) => finish({ httpStatus: null, ok: false, error: err.message }));
    req.on('response', (res) => {
      const status = res.statusCode ?? 0;
      let read = 0;
      res.on('data', (chunk: Buffer) => {
        read += chunk.length;
        if (read > ANSWER_BYTES) res.destroy();
      });
      res.on('error', () => undefined);
      res.on('close', () => {
        const ok = status >= 200 && status < 300;
        const error = ok ? undefined : status >= 300 && status < 400 ? 'the receiver answered a redirect, which is not followed' : `the receiver answered ${status}`;
        finish({ httpStatus: status, ok, ...(error ? { error } : {}) });
      });
      res.resume();
    });
    req.end(body);
  });
}
