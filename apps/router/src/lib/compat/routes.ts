import type { Express } from 'express';
import { judge0Routes } from './judge0/routes';
import { pistonRoutes } from './piston/routes';
import type { CompatDeps } from './run';
import { RuntimeVersion } from './runtimes';

/** The drop-in APIs of other code runners, each an adapter over the router's one dispatch (docs/compat.md). */
export function compatRoutes(app: Express, deps: CompatDeps): void {
  const runtime = new RuntimeVersion(deps.registry);
  pistonRoutes(app, deps, runtime);
  judge0Routes(app, deps, runtime);
}
