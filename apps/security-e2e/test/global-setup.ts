import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashWatchedFiles, listWatched, SANDBOX_RUNTIME, STATE_ENV, type SuiteState } from './host';

/** Canaries and listings, made before any hostile program runs (see host.ts). */
export default async function globalSetup(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'corral-security-e2e-'));
  chmodSync(dir, 0o700);
  const runId = `corral-hostile-${randomBytes(4).toString('hex')}`;

  const secret = `canary-secret-${randomBytes(16).toString('hex')}`;
  const secretPath = join(dir, 'secret.txt');
  writeFileSync(secretPath, `${secret}\n`, { mode: 0o600 });

  // A SQLite database a sandbox must not open (node:sqlite opens files without fs calls), made
  // with the pinned Node 24 runtime: the suite's own Node may have no node:sqlite.
  const dbSecret = `canary-db-secret-${randomBytes(16).toString('hex')}`;
  let secretDbPath: string | null = join(dir, 'secret.db');
  const made = existsSync(SANDBOX_RUNTIME)
    ? spawnSync(
        SANDBOX_RUNTIME,
        ['--no-warnings', '-e', `const { DatabaseSync } = require('node:sqlite'); const db = new DatabaseSync(process.argv[1]); db.exec('create table s (v text)'); db.prepare('insert into s values (?)').run(process.argv[2]); db.close();`, secretDbPath, dbSecret],
        { stdio: 'ignore', env: {} },
      )
    : null;
  if (made?.status === 0) chmodSync(secretDbPath, 0o600);
  else secretDbPath = null;

  const canary = spawn('sleep', ['600'], { detached: true, stdio: 'ignore' });
  canary.unref();
  if (!canary.pid) throw new Error('could not start the canary process (sleep 600)');

  const state: SuiteState = {
    dir,
    runId,
    secretPath,
    secret,
    secretDbPath,
    dbSecret,
    canaryPid: canary.pid,
    outputLog: join(dir, 'outputs.jsonl'),
    before: listWatched(),
    hashes: hashWatchedFiles(),
  };
  writeFileSync(state.outputLog, '', { mode: 0o600 });
  const statePath = join(dir, 'state.json');
  writeFileSync(statePath, JSON.stringify(state, null, 2), { mode: 0o600 });
  process.env[STATE_ENV] = statePath;
}
