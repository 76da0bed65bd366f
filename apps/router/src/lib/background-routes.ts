import type { Express, Request } from 'express';
import type { RouterConfig } from '@corral/config';
import { CorralError, ID_PATTERN, parseSubmission, type Submission } from '@corral/contracts';
import { sendError } from './answers';
import type { KeyRing } from './auth';
import type { Background } from './background';
import { readJson } from './execution-route';

/** The id in the path, when it is one corral could have made. @throws CorralError invalid_id */
function idOf(req: Request): string {
  const id = String(req.params['id'] ?? '');
  if (!ID_PATTERN.test(id)) throw new CorralError('invalid_id', `"${id.slice(0, 60)}" is not an id (ids are UUIDs, as POST answered them).`);
  return id;
}

/** `{ executions: [ … ] }`, each member a submission that runs in the background. @throws CorralError */
function parseBatch(body: unknown, config: Readonly<RouterConfig>): Submission[] {
  const members = (body as { executions?: unknown } | null)?.executions;
  const extra = body && typeof body === 'object' && !Array.isArray(body) ? Object.keys(body).filter((k) => k !== 'executions') : [];
  if (!Array.isArray(members) || members.length === 0 || extra.length > 0) {
    throw new CorralError('invalid_request', 'A batch is { "executions": [ … ] }: a non-empty array of execution requests, and nothing else.');
  }
  if (members.length > config.limits.maxBatch) throw new CorralError('payload_too_large', `${members.length} executions; a batch holds at most ${config.limits.maxBatch}.`);
  const problems: string[] = [];
  const submissions: Submission[] = [];
  for (const [i, member] of members.entries()) {
    try {
      const submission = parseSubmission(member, config.limits);
      if ((member as { wait?: unknown }).wait === true) problems.push(`executions[${i}]: a batch member runs in the background (leave out wait)`);
      submissions.push({ ...submission, wait: false });
    } catch (err) {
      if (!(err instanceof CorralError)) throw err;
      if (err.code === 'payload_too_large') throw new CorralError('payload_too_large', `executions[${i}]: ${err.message}`);
      problems.push(`executions[${i}]: ${err.message}`);
    }
  }
  if (problems.length > 0) throw new CorralError('invalid_request', `Invalid batch: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? ` and ${problems.length - 5} more` : ''}.`, { problems: problems.slice(0, 20) });
  return submissions;
}

/**
 * The background API: an execution answered 202 (`GET`, `DELETE /v1/executions/{id}`), and
 * batches (`POST /v1/batches`, `GET /v1/batches/{id}`). With API keys on, a key sees only its own.
 */
export function backgroundRoutes(app: Express, deps: { config: Readonly<RouterConfig>; keys: KeyRing; background: Background }): void {
  const { config, keys, background } = deps;

  app.get('/v1/executions/:id', async (req, res) => {
    const key = keys.identify(req.headers);
    const id = idOf(req);
    const record = await background.get(id, key);
    if (!record) return sendError(res, { code: 'not_found', message: `No execution ${id} (it never was, or it ended more than CORRAL_RESULT_TTL_S ago).` });
    res.json(record);
  });

  app.delete('/v1/executions/:id', async (req, res) => {
    const key = keys.identify(req.headers);
    res.json(await background.cancel(idOf(req), key));
  });

  app.post('/v1/batches', async (req, res) => {
    const key = keys.identify(req.headers);
    const accepted = await background.acceptBatch(parseBatch(await readJson(req, config.maxBodyBytes), config), key);
    res.status(202).set('location', `/v1/batches/${accepted.id}`).json(accepted);
  });

  app.get('/v1/batches/:id', async (req, res) => {
    const key = keys.identify(req.headers);
    const id = idOf(req);
    const batch = await background.getBatch(id, key);
    if (!batch) return sendError(res, { code: 'not_found', message: `No batch ${id}.` });
    res.json(batch);
  });

  app.all(['/v1/executions/:id', '/v1/batches', '/v1/batches/:id'], (_req, res) =>
    sendError(res, { code: 'method_not_allowed', message: 'Use GET or DELETE /v1/executions/{id}, POST /v1/batches, GET /v1/batches/{id}.' }),
  );
}
