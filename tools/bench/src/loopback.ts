/**
 * Network safety: the harness sends traffic only to 127.0.0.0/8. Every URL it requests goes
 * through `assertLoopbackUrl` first.
 */

/** True for a dotted-quad IPv4 address inside 127.0.0.0/8. Host names (even "localhost") are not accepted. */
export function isLoopbackIPv4(host: string): boolean {
  const parts = host.split('.');
  if (parts.length !== 4) return false;
  const octets = parts.map((p) => (/^\d{1,3}$/.test(p) ? Number(p) : Number.NaN));
  return octets.every((o) => o >= 0 && o <= 255) && octets[0] === 127;
}

/**
 * The URL, parsed, when its host is a 127.0.0.0/8 address.
 * @throws Error for any other host (names are refused too: a resolver could send them elsewhere)
 */
export function assertLoopbackUrl(url: string | URL): URL {
  const parsed = typeof url === 'string' ? new URL(url) : url;
  if (parsed.protocol !== 'http:') throw new Error(`refusing ${parsed.protocol} traffic: the benchmark speaks plain HTTP on loopback only`);
  if (!isLoopbackIPv4(parsed.hostname)) {
    throw new Error(`refusing to send traffic to ${parsed.hostname}: the benchmark only talks to 127.0.0.0/8`);
  }
  return parsed;
}
