#!/usr/bin/env node
/**
 * `npm start`: the whole single-machine stack in the foreground. Ctrl-C stops all of it.
 * PORT (router, default 8080), CORRAL_SLOTS (default 4), REDIS_URL, REDIS_SENTINELS or
 * REDIS_CLUSTER_NODES with their companions (default: a private redis-server, stopped on exit,
 * that keeps an append-only file in CORRAL_REDIS_DATA_DIR, default .corral/redis of the
 * checkout, so that background executions survive a restart); every other variable reaches the
 * services.
 */
import { join } from 'node:path';
import { hasRedisServer, REDIS_INSTALL_HINT } from './redis-server';
import { REPO_ROOT } from './services';
import { startStack, type Stack } from './stack';

/** How often the launcher checks that whatever started it is still there. */
const PARENT_CHECK_MS = 500;

function intFromEnv(name: string, fallback: number, min: number, max: number): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < min || value > max) {
    process.stderr.write(`corral: ${name}=${JSON.stringify(text)} must be a whole number from ${min} to ${max}.\n`);
    process.exit(2);
  }
  return value;
}

/** The variables that point at a Redis of the operator's, when one of the three is set. */
function externalRedis(): Record<string, string> | undefined {
  const redis = Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[0].startsWith('REDIS_') && !!e[1]));
  return redis['REDIS_URL'] || redis['REDIS_SENTINELS'] || redis['REDIS_CLUSTER_NODES'] ? redis : undefined;
}

async function main(): Promise<void> {
  const port = intFromEnv('PORT', 8080, 1, 65_535);
  const slots = intFromEnv('CORRAL_SLOTS', 4, 1, 65_000);
  const redisEnv = externalRedis();
  if (!redisEnv && !hasRedisServer()) {
    // `npm start` installs it first as root; this is the launcher run on its own.
    process.stderr.write(`corral: ${REDIS_INSTALL_HINT}\n`);
    process.exit(1);
  }
  const say = (text: string): void => void process.stderr.write(`corral: ${text}\n`);
  say(`starting ${slots} slots, ${redisEnv ? `Redis at ${Object.keys(redisEnv).filter((k) => !k.endsWith('PASSWORD')).join(', ')}` : 'a private redis-server'}…`);

  const running: { stack?: Stack } = {};
  let stopping = false;
  const shutdown = async (code: number): Promise<void> => {
    if (stopping) return;
    stopping = true;
    say('stopping…');
    await running.stack?.stop();
    say('stopped');
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));
  // npm (or whatever started this) killed outright leaves no one to say stop: notice it and stop.
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid === parent) return;
    say('the process that started this one is gone');
    void shutdown(1);
  }, PARENT_CHECK_MS).unref();

  const stack = await startStack({
    port,
    slots,
    ...(redisEnv ? { redisEnv } : { redisDataDir: process.env['CORRAL_REDIS_DATA_DIR'] || join(REPO_ROOT, '.corral', 'redis') }),
    prefix: process.env['CORRAL_REDIS_PREFIX'] || 'corral',
    hostId: process.env['CORRAL_HOST_ID'] || 'local',
    loopbackBase: process.env['CORRAL_LOOPBACK_BASE'] || undefined,
    workerPort: intFromEnv('CORRAL_WORKER_PORT', 0, 0, 65_535),
    onUnexpectedExit: (service, code) => {
      say(`${service} exited unexpectedly (${code}); stopping the stack`);
      void shutdown(1);
    },
  });
  running.stack = stack;
  if (stopping) return void (await stack.stop());

  // Show that it works: one execution, end to end.
  const example = { code: 'console.log("hello from corral", 6 * 7)' };
  const res = await fetch(`${stack.url}/v1/executions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(example),
  });
  say(`ready: ${stack.url} with ${slots} warm sandboxes`);
  say(`example: POST /v1/executions ${JSON.stringify(example)}`);
  say(`  -> ${res.status} ${await res.text()}`);
  say(`try: curl -s -X POST ${stack.url}/v1/executions -H 'content-type: application/json' -d '{"code":"console.log(1+1)"}'`);
  say('Ctrl-C stops everything.');
}

main().catch((err: unknown) => {
  process.stderr.write(`corral: ${(err as Error).message}\n`);
  process.exit(1);
});
