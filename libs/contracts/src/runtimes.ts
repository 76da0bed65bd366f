import { LANGUAGES, type Language } from './program';
import type { HostInfo } from './slots';

/** What GET /v1/runtimes answers: what programs may be written in and may import. */
export interface RuntimesAnswer {
  /** The sandbox runtime of the live hosts (null while none is up). */
  runtime: { name: 'node'; version: string | null };
  languages: { language: Language; aliases: string[]; extensions: string[]; version: string | null }[];
  /** The packages every live host's sandboxes may import (by require and import). */
  packages: { name: string; version: string }[];
}

/**
 * The runtimes answer from what the live hosts said of themselves: their runtime version (the
 * most common, should a fleet be mid-upgrade) and the packages all of them have.
 */
export function runtimesAnswer(hosts: readonly HostInfo[]): RuntimesAnswer {
  const counts = new Map<string, number>();
  for (const host of hosts) counts.set(host.runtime, (counts.get(host.runtime) ?? 0) + 1);
  const version = [...counts].sort((a, b) => b[1] - a[1])[0]?.[0] ?? null;
  const key = (p: { name: string; version: string }): string => `${p.name}@${p.version}`;
  const common = hosts.length === 0 ? [] : (hosts[0]?.packages ?? []).filter((p) => hosts.every((h) => (h.packages ?? []).some((q) => key(q) === key(p))));
  return {
    runtime: { name: 'node', version },
    languages: (Object.keys(LANGUAGES) as Language[]).map((language) => ({
      language,
      aliases: [...LANGUAGES[language].aliases],
      extensions: [...LANGUAGES[language].extensions],
      version,
    })),
    packages: [...common].sort((a, b) => a.name.localeCompare(b.name)),
  };
}
