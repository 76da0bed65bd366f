import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { appOf, composeFile, CORRAL_IMAGE, DEPLOY_DIR, k8sManifests, SERVICES, unknownFor, variablesIn, type Manifest } from './deploy-files';
import { validateManifest } from './k8s-models';
import { unknownFields } from './k8s-strict';

/**
 * deploy/k8s against the Kubernetes API's JSON schemas (kubernetes-models), and every variable
 * that Kubernetes, compose and the systemd units set against the config schema: each must be one
 * that the service receiving it reads (libs/config's configVariables).
 */
type Container = { name: string; image: string; command?: string[]; args?: string[]; env?: { name: string }[]; envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[]; resources?: { requests?: Record<string, string> }; livenessProbe?: { httpGet?: { path: string } }; readinessProbe?: { httpGet?: { path: string } } };
type PodSpec = { containers: Container[]; initContainers?: Container[] };

const manifests = k8sManifests();
const byKind = (kind: string): Manifest[] => manifests.map((m) => m.doc).filter((d) => d.kind === kind);
const named = (kind: string, name: string): Manifest => {
  const found = byKind(kind).find((d) => d.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} in deploy/k8s`);
  return found;
};
const podSpec = (workload: Manifest): PodSpec => (workload['spec'] as { template: { spec: PodSpec } }).template.spec;
const workloads = (): Manifest[] => manifests.map((m) => m.doc).filter((d) => ['Deployment', 'DaemonSet', 'StatefulSet'].includes(d.kind));

/** The keys a ConfigMap's data or a Secret's stringData/data give a container through envFrom. */
function keysOf(kind: 'ConfigMap' | 'Secret', name: string): string[] {
  const doc = named(kind, name) as Manifest & { data?: object; stringData?: object };
  return [...Object.keys(doc.data ?? {}), ...Object.keys(doc.stringData ?? {})];
}

function variablesOf(container: Container): string[] {
  return [
    ...(container.env ?? []).map((e) => e.name),
    ...(container.envFrom ?? []).flatMap((f) => (f.configMapRef ? keysOf('ConfigMap', f.configMapRef.name) : f.secretRef ? keysOf('Secret', f.secretRef.name) : [])),
    ...variablesIn([...(container.command ?? []), ...(container.args ?? [])].join(' ')),
  ];
}

describe('Kubernetes manifests', () => {
  it.each(manifests.map((m) => [`${m.file}: ${m.doc.kind} ${m.doc.metadata.name}`, m.doc] as const))('%s is valid against the Kubernetes API schema', (_label, doc) => {
    expect(() => validateManifest(doc)).not.toThrow();
    expect(doc.metadata.namespace ?? (doc.kind === 'Namespace' ? 'corral' : undefined)).toBe('corral');
  });

  it('no manifest has a field the Kubernetes API does not know (strict, as kubeconform -strict)', () => {
    expect(unknownFields(manifests.map((m) => ({ label: `${m.file}: ${m.doc.kind} ${m.doc.metadata.name}`, doc: m.doc })))).toEqual([]);
    // The check itself: a misspelt probe and a field at the wrong level are named.
    const typo = structuredClone(named('Deployment', 'corral-router'));
    const container = podSpec(typo).containers[0] as Container & Record<string, unknown>;
    container['livenesProbe'] = container.livenessProbe;
    const misplaced = structuredClone(named('Deployment', 'corral-router'));
    (misplaced['spec'] as Record<string, unknown>)['replica'] = 2;
    const found = unknownFields([
      { label: 'typo', doc: typo },
      { label: 'misplaced', doc: misplaced },
    ]);
    expect(found).toEqual([expect.stringMatching(/^typo: .*livenesProbe/), expect.stringMatching(/^misplaced: .*replica\b/)]);
  }, 60_000);

  it('the validation refuses what the API server would: a wrong type, a missing required field, an unknown kind', () => {
    const router = named('Deployment', 'corral-router');
    const wrongType = structuredClone(router) as Manifest & { spec: { replicas: unknown } };
    wrongType.spec.replicas = 'two';
    expect(() => validateManifest(wrongType)).toThrow(/replicas/);
    const noImage = structuredClone(router);
    delete (podSpec(noImage).containers[0] as Partial<Container>).name;
    expect(() => validateManifest(noImage)).toThrow(/name/);
    expect(() => validateManifest({ ...router, kind: 'Deploymnet' })).toThrow(/no schema/);
  });

  it('the router: a Deployment behind a Service, probes on /healthz and /readyz, an HPA on CPU, a PDB', () => {
    const router = podSpec(named('Deployment', 'corral-router')).containers[0]!;
    expect(appOf(router.args)).toBe('router');
    expect(router.livenessProbe?.httpGet?.path).toBe('/healthz');
    expect(router.readinessProbe?.httpGet?.path).toBe('/readyz');
    expect((named('Service', 'corral-router')['spec'] as { selector: object }).selector).toEqual({ 'app.kubernetes.io/name': 'corral-router' });
    const hpa = named('HorizontalPodAutoscaler', 'corral-router')['spec'] as { scaleTargetRef: { name: string }; metrics: { resource: { name: string } }[] };
    expect(hpa.scaleTargetRef.name).toBe('corral-router');
    expect(hpa.metrics.map((m) => m.resource.name)).toEqual(['cpu']);
    expect(byKind('PodDisruptionBudget').map((p) => p.metadata.name)).toEqual(expect.arrayContaining(['corral-router', 'redis']));
  });

  it('each node: netprov first, then the worker and the watchdog in one pid namespace; Redis through three Sentinels', () => {
    const node = podSpec(named('DaemonSet', 'corral-node')) as PodSpec & { shareProcessNamespace?: boolean };
    expect(node.initContainers?.map((c) => appOf(c.args))).toEqual(['netprov']);
    expect(node.containers.map((c) => appOf(c.args))).toEqual(['worker', 'watchdog']);
    expect(node.shareProcessNamespace).toBe(true);
    expect(keysOf('ConfigMap', 'corral-config')).toEqual(expect.arrayContaining(['REDIS_SENTINELS', 'REDIS_SENTINEL_MASTER']));
    expect((named('StatefulSet', 'redis')['spec'] as { replicas: number }).replicas).toBe(3);
    expect(byKind('NetworkPolicy').map((p) => p.metadata.name)).toEqual(expect.arrayContaining(['default-deny', 'corral-router', 'redis']));
  });

  it('every container asks for CPU and memory', () => {
    for (const workload of workloads()) {
      const spec = podSpec(workload);
      for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
        expect([`${workload.metadata.name}/${c.name}`, Object.keys(c.resources?.requests ?? {}).sort()]).toEqual([`${workload.metadata.name}/${c.name}`, ['cpu', 'memory']]);
      }
    }
  });

  it('every variable a corral container receives is one its service reads', () => {
    const problems: string[] = [];
    let checked = 0;
    for (const workload of workloads()) {
      const spec = podSpec(workload);
      for (const c of [...(spec.initContainers ?? []), ...spec.containers].filter((c) => c.image === CORRAL_IMAGE)) {
        const app = appOf(c.args);
        if (!app) {
          problems.push(`${workload.metadata.name}/${c.name}: runs no corral app`);
          continue;
        }
        const names = variablesOf(c);
        checked += names.length;
        problems.push(...unknownFor(app, names, `${workload.metadata.name}/${c.name}`));
      }
    }
    expect(problems).toEqual([]);
    expect(checked).toBeGreaterThan(20);
  });
});

describe('the config cross-check itself', () => {
  it('reports a name no service reads, and one given to a service that does not read it', () => {
    expect(unknownFor('worker', ['CORRAL_WORKER_PORT', 'CORRAL_NOPE'], 'here')).toEqual(['here: CORRAL_NOPE is not a variable of worker']);
    expect(unknownFor('router', ['CORRAL_SANDBOX_JAIL'], 'here')).toEqual(['here: CORRAL_SANDBOX_JAIL is not a variable of router']);
    expect(variablesIn('CORRAL_CIDR="$(cat x/$CORRAL_HOST_ID)" exec corral netprov up')).toEqual(['CORRAL_CIDR', 'CORRAL_HOST_ID']);
  });
});

describe('compose.yaml', () => {
  it('runs each app of the image once, each with only variables that app reads', () => {
    const services = composeFile().services;
    const corral = Object.entries(services).filter(([, s]) => s.image === CORRAL_IMAGE);
    expect(corral.map(([, s]) => appOf(s.command)).sort()).toEqual([...SERVICES].sort());
    const problems = corral.flatMap(([name, s]) => unknownFor(appOf(s.command)!, Object.keys(s.environment ?? {}), `compose ${name}`));
    expect(problems).toEqual([]);
    expect(Object.keys(services['worker']!.environment ?? {})).toEqual(expect.arrayContaining(['REDIS_URL', 'REDIS_PASSWORD', 'CORRAL_WORKER_PORT']));
  });
});

describe('systemd units', () => {
  const unitFile = (name: string): string => readFileSync(join(DEPLOY_DIR, 'systemd', name), 'utf8');
  const UNITS = { router: 'corral-router.service', worker: 'corral-worker.service', watchdog: 'corral-watchdog.service', netprov: 'corral-netprov.service' } as const;

  it.each(Object.entries(UNITS))('%s: every variable the unit names is one it reads, and it runs its own app', (app, file) => {
    const text = unitFile(file);
    expect(text).toContain(`apps/${app}/dist/main.js`);
    expect(text).toContain('EnvironmentFile=/etc/corral/corral.env');
    expect(unknownFor(app as keyof typeof UNITS, variablesIn(text), file)).toEqual([]);
  });

  it('corral.env.example sets only variables some unit reading it uses', () => {
    const names = unitFile('corral.env.example')
      .split('\n')
      .filter((l) => /^[A-Z]/.test(l))
      .map((l) => l.split('=')[0]!);
    expect(names.length).toBeGreaterThan(8);
    const unread = names.filter((n) => SERVICES.every((s) => unknownFor(s, [n], '').length > 0));
    expect(unread).toEqual([]);
  });
});
