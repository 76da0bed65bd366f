import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, REPO_ROOT, waitFor } from '@corral/devkit';
import { corral } from './helpers';

/**
 * README's quick start, as written: `npm start`, then the curl example, whose answer must be the
 * one README shows (ids and figures aside); then Ctrl-C stops everything.
 */
const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');

function blockAfter(marker: string): string {
  const at = readme.indexOf(marker);
  expect(at).toBeGreaterThan(0);
  const match = /```\w*\n([\s\S]*?)```/.exec(readme.slice(at));
  if (!match) throw new Error(`no code block after ${marker}`);
  return match[1]!.trim();
}

let start: ChildProcess | undefined;
let log = '';

afterAll(async () => {
  try {
    if (start?.pid) process.kill(-start.pid, 'SIGKILL');
  } catch {
    // the whole group is gone already
  }
});

it('the quick-start curl example, run against npm start, gives the shown result', async () => {
  const port = await freePort();
  // Like a terminal: its own process group, so that "Ctrl-C" can go to the whole group.
  start = spawn('npm', ['start'], {
    cwd: REPO_ROOT,
    env: { ...process.env, PORT: String(port), CORRAL_SLOTS: '2', LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  start.stdout!.on('data', (d: Buffer) => (log += d.toString()));
  start.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  await waitFor('npm start to be ready', () => log.includes('Ctrl-C stops everything') || (start!.exitCode !== null && Promise.reject(new Error(log))), {
    timeoutMs: 180_000, // npm start builds first
    intervalMs: 100,
  });
  expect(log).toMatch(/-> 200 \{"id":"[^"]+","status":"ok",.*"stdout":"hello from corral 42\\n"/);

  const curl = blockAfter('<!-- quickstart-curl -->').replace('127.0.0.1:8080', `127.0.0.1:${port}`);
  expect(curl).toContain(`127.0.0.1:${port}`);
  const ran = spawnSync('bash', ['-c', curl], { encoding: 'utf8' });
  expect(ran.status).toBe(0);
  const got = JSON.parse(ran.stdout) as Record<string, unknown>;
  const shown = JSON.parse(blockAfter('<!-- quickstart-output -->')) as Record<string, unknown>;
  expect(Object.keys(got)).toEqual(Object.keys(shown));
  for (const key of ['status', 'exitCode', 'signal', 'stdout', 'stderr', 'truncated']) expect(got[key]).toEqual(shown[key]);
  for (const key of ['id', 'durationMs', 'cpuMs', 'memoryBytes']) expect(typeof got[key]).toBe(typeof shown[key]);

  const exited = new Promise<string>((resolve) => start!.once('exit', (code, signal) => resolve(String(code ?? signal))));
  process.kill(-start.pid!, 'SIGINT');
  // npm itself ends as Ctrl-C ends it (by SIGINT); the launcher under it stops everything first.
  expect(['0', 'SIGINT']).toContain(await exited);
  await waitFor('the launcher to finish', () => log.includes('corral: stopped'), { timeoutMs: 30_000 });
  expect(log).not.toMatch(/second signal|shutdown failed|exited unexpectedly/);
  await expect(corral(`http://127.0.0.1:${port}`).health()).rejects.toThrow();
}, 240_000);
