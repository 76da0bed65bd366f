import type { Express } from 'express';
import { JUDGE0_DEFAULT_FIELDS, judge0Config, judge0Echo, judge0Languages, judge0Render, judge0View, type Judge0Config } from '@corral/contracts';
import type { CompatDeps } from '../run';
import type { RuntimeVersion } from '../runtimes';
import { judge0Info } from './info';
import { judge0Submissions, type Judge0Context } from './submissions';

/** Judge0 CE 1.13 on the router: submissions (one, batches) and its information endpoints. */
export function judge0Routes(app: Express, deps: CompatDeps, runtime: RuntimeVersion): void {
  const { config } = deps;
  const judge0: Judge0Config = judge0Config(config.limits, {
    maxBatch: config.limits.maxBatch,
    maxQueue: config.maxQueue,
    callbacks: config.webhooks.allow.length > 0,
    callbackTries: config.webhooks.attempts,
    callbackTimeoutS: config.webhooks.timeoutMs / 1000,
  });
  const ctx: Judge0Context = { deps, config: () => judge0, languages: async () => judge0Languages(await runtime.get()) };
  // Judge0's callback: a PUT of the submission's default fields, base64 encoded (IsolateJob#call_callback).
  deps.background.renderWebhooks(async (record, tag) => {
    const echo = judge0Echo(tag);
    if (!echo) return null;
    const view = judge0Render(judge0View(record, echo), JUDGE0_DEFAULT_FIELDS, true, await ctx.languages());
    return { method: 'PUT', body: Buffer.from(JSON.stringify(view)) };
  });
  judge0Submissions(app, ctx);
  judge0Info(app, ctx);
}
