import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { REPO_ROOT } from '@corral/devkit';
import type { Manifest } from './deploy-files';

/** Where each kind's interface lives in kubernetes-models (the same set k8s-models.ts validates). */
const TYPES: Record<string, string> = {
  'v1/Namespace': 'v1/Namespace',
  'v1/ConfigMap': 'v1/ConfigMap',
  'v1/Secret': 'v1/Secret',
  'v1/Service': 'v1/Service',
  'apps/v1/Deployment': 'apps/v1/Deployment',
  'apps/v1/DaemonSet': 'apps/v1/DaemonSet',
  'apps/v1/StatefulSet': 'apps/v1/StatefulSet',
  'autoscaling/v2/HorizontalPodAutoscaler': 'autoscaling/v2/HorizontalPodAutoscaler',
  'policy/v1/PodDisruptionBudget': 'policy/v1/PodDisruptionBudget',
  'networking.k8s.io/v1/NetworkPolicy': 'networking.k8s.io/v1/NetworkPolicy',
};

/**
 * Fields the Kubernetes API does not know (a misspelt `livenesProbe` the JSON schemas let
 * through, as the API server would drop it): each manifest is type-checked as an object literal
 * against kubernetes-models' interface of its kind, and TypeScript's excess-property check names
 * every unknown field. Returns one message per problem, with the manifest's label.
 */
export function unknownFields(manifests: readonly { label: string; doc: Manifest }[]): string[] {
  const dir = join(REPO_ROOT, 'tmp', `deploy-e2e-strict-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  try {
    const files = manifests.map(({ doc }, i) => {
      const type = TYPES[`${doc.apiVersion}/${doc.kind}`];
      if (!type) throw new Error(`no type for ${doc.apiVersion} ${doc.kind}`);
      const file = join(dir, `m${i}.ts`);
      writeFileSync(file, `import type { I${doc.kind} } from 'kubernetes-models/${type}';\nexport const m: I${doc.kind} = ${JSON.stringify(doc, null, 1)};\n`);
      return file;
    });
    const program = ts.createProgram(files, {
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      target: ts.ScriptTarget.ES2022,
      types: [],
    });
    return manifests.flatMap(({ label }, i) =>
      ts.getPreEmitDiagnostics(program, program.getSourceFile(files[i] ?? '')).map((d) => `${label}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
