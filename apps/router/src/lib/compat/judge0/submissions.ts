import type { Express, Request, Response } from 'express';
import {
  CorralError,
  ID_PATTERN,
  judge0Echo,
  judge0Fields,
  judge0Render,
  judge0Tag,
  judge0View,
  parseJudge0Submission,
  type Judge0Config,
  type Judge0Echo,
  type Judge0Field,
  type Judge0Language,
  type Judge0View,
  type Submission,
} from '@corral/contracts';
import { readJson } from '../../execution-route';
import { runWaiting, startRun, type CompatDeps } from '../run';
import { judge0Key, sendJudge0Error, sendJudge0Thrown } from './answers';

/** What every submission route needs: the router's deps, this server's Judge0 configuration and languages. */
export interface Judge0Context {
  deps: CompatDeps;
  config: () => Judge0Config;
  languages: () => Promise<Judge0Language[]>;
}

const flag = (req: Request, name: string): boolean => req.query[name] === 'true';

/** `?fields=`, or the 400 Judge0 answers for unknown ones (null: answered). */
function fieldsOf(req: Request, res: Response): readonly Judge0Field[] | null {
  const asked = judge0Fields(req.query['fields']);
  if ('fields' in asked) return asked.fields;
  res.status(400).set('x-corral-error', 'invalid_request').json({ error: `invalid fields: [${asked.invalid.join(', ')}]` });
  return null;
}

/** A kept record as Judge0 shows it; null when it is not a Judge0 submission of this key. */
async function viewOf(token: string, req: Request, ctx: Judge0Context): Promise<Judge0View | null> {
  if (!ID_PATTERN.test(token)) return null;
  const tagged = await ctx.deps.background.getTagged(token, judge0Key(req, ctx.deps.keys));
  const echo = judge0Echo(tagged?.tag ?? null);
  return tagged && echo ? judge0View(tagged.record, echo) : null;
}

function batchBounds(count: number, max: number): string | null {
  if (count > max) return `number of submissions in a batch should be less than or equal to ${max}`;
  if (count === 0) return 'there should be at least one submission in a batch';
  return null;
}

/** Judge0's submission API: create (`wait`, `base64_encoded`), read (`fields`), batches. */
export function judge0Submissions(app: Express, ctx: Judge0Context): void {
  const { deps } = ctx;
  const { config: routerConfig, log, background } = deps;

  app.post('/submissions/batch', async (req, res) => {
    try {
      const key = judge0Key(req, deps.keys);
      const body = (await readJson(req, routerConfig.maxBodyBytes)) as { submissions?: unknown } | null;
      const members = Array.isArray(body?.submissions) ? (body.submissions as unknown[]) : [];
      const bounds = batchBounds(members.length, ctx.config().max_submission_batch_size);
      if (bounds) return void res.status(400).set('x-corral-error', 'invalid_request').json({ error: bounds });
      const answers: unknown[] = [];
      const valid: { index: number; submission: Submission; echo: Judge0Echo }[] = [];
      for (const [index, member] of members.entries()) {
        try {
          const parsed = parseJudge0Submission(member, { base64: flag(req, 'base64_encoded'), wait: false, config: ctx.config(), limits: routerConfig.limits });
          valid.push({ index, ...parsed });
        } catch (err) {
          if (!(err instanceof CorralError) || !(err.details as { fields?: unknown } | undefined)?.fields) throw err;
          answers[index] = (err.details as { fields: unknown }).fields;
        }
      }
      if (valid.length > 0) {
        for (const v of valid) await background.checkCallback(v.submission, key);
        const accepted = await background.acceptBatch(
          valid.map((v) => v.submission),
          key,
          valid.map((v) => judge0Tag(v.echo)),
        );
        valid.forEach((v, i) => (answers[v.index] = { token: accepted.executions[i] }));
      }
      res.status(valid.length > 0 ? 201 : 422).json(answers);
    } catch (err) {
      sendJudge0Thrown(res, err, log);
    }
  });

  app.get('/submissions/batch', async (req, res) => {
    try {
      judge0Key(req, deps.keys);
      const fields = fieldsOf(req, res);
      if (!fields) return;
      const header = req.headers['tokens'];
      const tokens = String((typeof header === 'string' ? header : req.query['tokens']) ?? '')
        .trim()
        .split(',')
        .filter((t) => t.length > 0);
      const bounds = batchBounds(tokens.length, ctx.config().max_submission_batch_size);
      if (bounds) return void res.status(400).set('x-corral-error', 'invalid_request').json({ error: bounds });
      const languages = await ctx.languages();
      const views = await Promise.all(tokens.map((t) => viewOf(t, req, ctx)));
      res.json({ submissions: views.map((v) => (v ? judge0Render(v, fields, flag(req, 'base64_encoded'), languages) : null)) });
    } catch (err) {
      sendJudge0Thrown(res, err, log);
    }
  });

  app.get('/submissions/:token', async (req, res) => {
    try {
      const fields = fieldsOf(req, res);
      if (!fields) return;
      const view = await viewOf(String(req.params['token']), req, ctx);
      if (!view) return void res.status(404).set('x-corral-error', 'not_found').json({ error: 'Not Found' });
      res.json(judge0Render(view, fields, flag(req, 'base64_encoded'), await ctx.languages()));
    } catch (err) {
      sendJudge0Thrown(res, err, log);
    }
  });

  app.post('/submissions', async (req, res) => {
    const { requestId, signal, log: reqLog } = startRun(res, log, 'judge0');
    try {
      const key = judge0Key(req, deps.keys);
      const fields = fieldsOf(req, res);
      if (!fields) return;
      const wait = flag(req, 'wait');
      const base64 = flag(req, 'base64_encoded');
      const { submission, echo } = parseJudge0Submission(await readJson(req, routerConfig.maxBodyBytes), { base64, wait, config: ctx.config(), limits: routerConfig.limits });
      const tag = judge0Tag(echo);
      if (!wait) {
        const token = await background.accept(submission, key, tag);
        return void res.status(201).json({ token });
      }
      const createdAt = new Date().toISOString();
      const waited = await runWaiting(submission, key, signal, deps, reqLog, requestId, tag);
      if (waited.kind === 'stopped') return;
      const finishedAt = new Date().toISOString();
      const base = { createdAt, startedAt: createdAt, finishedAt, state: 'done' as const, echo };
      let view: Judge0View;
      // The record is kept under the execution's id: the blocking call's own, or the tests' (Background.runWaited's).
      if (waited.kind === 'result') view = { ...base, token: 'tests' in waited.result || submission.callbackUrl ? waited.result.id : requestId, result: waited.result };
      else if (waited.error.code === 'worker_failed') view = { ...base, token: requestId, error: { code: 'worker_failed', message: waited.error.message ?? 'The worker failed.' } };
      else return sendJudge0Thrown(res, new CorralError(waited.error.code, waited.error.message), reqLog);
      res.status(201).json(judge0Render(view, fields, base64, await ctx.languages()));
    } catch (err) {
      sendJudge0Thrown(res, err, reqLog);
    }
  });

  app.all(['/submissions', '/submissions/batch', '/submissions/:token'], (_req, res) => sendJudge0Error(res, { code: 'method_not_allowed', message: 'This endpoint does not take that method.' }));
}
