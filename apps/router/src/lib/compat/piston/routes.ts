import type { Express, Response } from 'express';
import semver from 'semver';
import {
  CorralError,
  DEFAULT_COMPARE,
  ERROR_HEADER,
  LANGUAGES,
  parsePistonExecute,
  pistonAnswer,
  pistonInternalError,
  type ExecutionResult,
  type Language,
  type PistonRuntime,
} from '@corral/contracts';
import { errorAnswer, type ErrorAnswer } from '../../answers';
import { readJson } from '../../execution-route';
import { runWaiting, startRun, type CompatDeps } from '../run';
import type { RuntimeVersion } from '../runtimes';

/** Piston's runtimes for the sandbox runtime's version: JavaScript and TypeScript, both run by node. */
export function pistonRuntimes(version: string | null): PistonRuntime[] {
  if (!version) return [];
  return (Object.keys(LANGUAGES) as Language[]).map((language) => ({ language, version, aliases: [...LANGUAGES[language].aliases], runtime: 'node' }));
}

/** The newest runtime whose language (or alias, case as sent) is `language` and whose version satisfies `selector`, as Piston picks it. */
export function resolvePiston(runtimes: readonly PistonRuntime[], language: string, selector: string): PistonRuntime | undefined {
  return runtimes
    .filter((rt) => (rt.language === language || rt.aliases.includes(language)) && semver.satisfies(rt.version, selector))
    .sort((a, b) => semver.rcompare(a.version, b.version))[0];
}

/** Piston's error body `{ message }`, with corral's catalogue code in `x-corral-error`. */
function sendPistonError(res: Response, answer: ErrorAnswer): void {
  if (res.headersSent) return void res.destroy();
  const err = new CorralError(answer.code, answer.message);
  res.status(err.httpStatus).set(answer.headers ?? {}).set(ERROR_HEADER, err.code).json({ message: err.message });
}

/**
 * Piston v2 on the router: `GET /api/v2/runtimes`, `POST /api/v2/execute`. The body is read as
 * JSON whatever its Content-Type (piston-client sends none); the job goes through the one dispatch.
 */
export function pistonRoutes(app: Express, deps: CompatDeps, runtime: RuntimeVersion): void {
  const { config, keys, log } = deps;

  app.get('/api/v2/runtimes', async (req, res) => {
    try {
      keys.identify(req.headers);
      res.json(pistonRuntimes(await runtime.get()));
    } catch (err) {
      sendPistonError(res, errorAnswer(err, log));
    }
  });

  app.post('/api/v2/execute', async (req, res) => {
    const { requestId, signal, log: reqLog } = startRun(res, log, 'piston');
    try {
      const key = keys.identify(req.headers);
      const body = await readJson(req, config.maxBodyBytes).catch((err: unknown) => {
        throw err instanceof CorralError && err.code === 'invalid_json' ? new CorralError('invalid_json', 'The request body is not valid JSON.') : err;
      });
      const runtimes = pistonRuntimes(await runtime.get());
      const { job, runtime: rt } = parsePistonExecute(body, (language, selector) => resolvePiston(runtimes, language, selector), config.limits);
      const waited = await runWaiting({ job, tests: null, compare: DEFAULT_COMPARE, stopOnFailure: false, wait: true, callbackUrl: null }, key, signal, deps, reqLog, requestId);
      if (waited.kind === 'stopped') return;
      if (waited.kind === 'result') return void res.json(pistonAnswer(rt, waited.result as ExecutionResult));
      // The sandbox's side failed under the job: isolate's internal error. Anything else never ran.
      if (waited.error.code === 'worker_failed') return void res.set(ERROR_HEADER, 'worker_failed').json(pistonInternalError(rt, waited.error.message ?? 'worker failed'));
      sendPistonError(res, waited.error);
    } catch (err) {
      sendPistonError(res, errorAnswer(err, reqLog));
    }
  });
}
