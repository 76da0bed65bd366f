import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { configVariables, type ServiceName } from '@corral/config';
import { REPO_ROOT } from '@corral/devkit';

export const DEPLOY_DIR = join(REPO_ROOT, 'deploy');
export const SERVICES: readonly ServiceName[] = ['router', 'worker', 'watchdog', 'netprov'];
/** The image every corral container runs (compose and Kubernetes). */
export const CORRAL_IMAGE = 'localhost/corral:dev';

export type Manifest = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string }; [key: string]: unknown };

/** Every document of every file in deploy/k8s, with the file it came from. */
export function k8sManifests(): { file: string; doc: Manifest }[] {
  const dir = join(DEPLOY_DIR, 'k8s');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .flatMap((file) =>
      parseAllDocuments(readFileSync(join(dir, file), 'utf8')).map((d) => {
        if (d.errors.length > 0) throw new Error(`${file}: ${d.errors.map((e) => e.message).join('; ')}`);
        return { file, doc: d.toJS() as Manifest };
      }),
    );
}

export function composeFile(): { services: Record<string, { image?: string; command?: string[]; environment?: Record<string, string> }> } {
  // Compose files use YAML merge keys (<<: *anchor).
  const [doc] = parseAllDocuments(readFileSync(join(DEPLOY_DIR, 'compose.yaml'), 'utf8'), { merge: true });
  if (!doc || doc.errors.length > 0) throw new Error(`compose.yaml: ${doc?.errors.map((e) => e.message).join('; ') ?? 'empty'}`);
  return doc.toJS({ maxAliasCount: 100 });
}

/** Names a service reads, from the config schema (libs/config's loaders). */
export function knownVariables(service: ServiceName): Set<string> {
  return new Set(configVariables(service));
}

/** Every variable name written as a word in free text (shell lines, unit files): CORRAL_… and REDIS_…. */
export function variablesIn(text: string): string[] {
  return [...new Set(text.match(/\b(?:CORRAL|REDIS)_[A-Z0-9_]+\b/g) ?? [])];
}

/** The names in `names` that `service` does not read ("where" says where each was set). */
export function unknownFor(service: ServiceName, names: Iterable<string>, where: string): string[] {
  const known = knownVariables(service);
  return [...names].filter((n) => !known.has(n)).map((n) => `${where}: ${n} is not a variable of ${service}`);
}

/** The app a corral container runs: its first argument (the image's entrypoint takes it). */
export function appOf(args: readonly string[] | undefined): ServiceName | undefined {
  const text = (args ?? []).join(' ');
  return SERVICES.find((s) => new RegExp(`(^|\\s|/)corral ${s}\\b|^${s}\\b`).test(text));
}
