import { arch, cpus, totalmem } from 'node:os';
import type { Express } from 'express';
import { JUDGE0_STATUSES, JUDGE0_VERSION } from '@corral/contracts';
import { judge0Key, sendJudge0Thrown } from './answers';
import type { Judge0Context } from './submissions';

/** Memory as `free -h` writes it (`15Gi`). */
function human(bytes: number): string {
  const units = ['B', 'Ki', 'Mi', 'Gi', 'Ti'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value >= 10 ? Math.round(value) : value.toFixed(1)}${units[unit]}`;
}

/** The router's machine in the keys of Judge0's `lscpu` and `free -h` (Judge0 describes the machine it runs on). */
function systemInfo(): Record<string, string> {
  const cores = cpus();
  return { Architecture: arch() === 'x64' ? 'x86_64' : arch(), 'CPU(s)': String(cores.length), 'Model name': cores[0]?.model ?? 'unknown', Mem: human(totalmem()) };
}

/** Judge0's information endpoints, each true of this server: languages, statuses, about, configuration, system. */
export function judge0Info(app: Express, ctx: Judge0Context): void {
  const { keys, log } = ctx.deps;
  const guarded =
    (answer: () => unknown | Promise<unknown>) =>
    async (req: Parameters<Parameters<Express['get']>[1]>[0], res: Parameters<Parameters<Express['get']>[1]>[1]): Promise<void> => {
      try {
        judge0Key(req, keys);
        res.json(await answer());
      } catch (err) {
        sendJudge0Thrown(res, err, log);
      }
    };

  app.get('/languages', guarded(async () => (await ctx.languages()).map(({ id, name }) => ({ id, name }))));
  app.get('/languages/all', guarded(async () => (await ctx.languages()).map(({ id, name, is_archived }) => ({ id, name, is_archived }))));
  app.get('/languages/:id', async (req, res) => {
    try {
      judge0Key(req, keys);
      const language = (await ctx.languages()).find((l) => String(l.id) === req.params['id']);
      if (!language) return void res.status(404).set('x-corral-error', 'not_found').json({ error: 'Not Found' });
      res.json(language);
    } catch (err) {
      sendJudge0Thrown(res, err, log);
    }
  });
  app.get('/statuses', guarded(() => JUDGE0_STATUSES));
  app.get('/about', guarded(() => ({ version: JUDGE0_VERSION, homepage: null, source_code: null, maintainer: 'corral: the Judge0 CE API over its own sandboxes' })));
  app.get('/version', (_req, res) => void res.type('text/plain').send(JUDGE0_VERSION));
  app.get('/config_info', guarded(() => ctx.config()));
  app.get('/system_info', guarded(() => systemInfo()));
}
