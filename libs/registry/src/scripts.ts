import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Connection } from './connection';
import { luaPreamble } from './reply-codes';

/** The folder of Lua scripts, the same from src/ (tests) and dist/ (services). */
export const LUA_DIR = join(__dirname, '..', 'lua');

export type ScriptName =
  | 'publishInventory'
  | 'requestSlot'
  | 'takeAssignment'
  | 'cancelTicket'
  | 'startJob'
  | 'listJobs'
  | 'releaseSlot'
  | 'setSlotState'
  | 'releaseClaim'
  | 'reclaimClaims'
  | 'recordKill'
  | 'admitKey'
  | 'restoreJob'
  | 'markHostDead'
  | 'startExecution'
  | 'handOverExecution'
  | 'finishExecution'
  | 'cancelExecution'
  | 'setWebhook';

const INCLUDE = /^--- @include "([\w-]+)"$/gm;

/**
 * Replaces each `--- @include "name"` line with lua/includes/name.lua (shared functions), the
 * includes of an include first; each include is inlined once, where it is first asked for, so
 * an include may name what it needs without defining a function twice.
 */
export function withIncludes(source: string, dir = LUA_DIR, seen = new Set<string>()): string {
  return source.replace(INCLUDE, (_line, name: string) => {
    if (seen.has(name)) return '';
    seen.add(name);
    return withIncludes(readFileSync(join(dir, 'includes', `${name}.lua`), 'utf8'), dir, seen);
  });
}

/**
 * How every script publishes an event: `publish(channel, message)`. Sharded (SPUBLISH) on a
 * Cluster, where a plain PUBLISH is copied to every node of the cluster; a channel carries the
 * keys' hash tag, so SPUBLISH stays on the shard the script runs on.
 */
export function luaPublish(sharded: boolean): string {
  return `local function publish(channel, message) return redis.call('${sharded ? 'SPUBLISH' : 'PUBLISH'}', channel, message) end\n`;
}

/** A script as sent to Redis: the REPLY table and `publish`, then the file with its includes. */
export function scriptSource(file: string, dir = LUA_DIR, sharded = false): string {
  return luaPreamble() + luaPublish(sharded) + withIncludes(readFileSync(join(dir, file), 'utf8'), dir);
}

/** Calls one script with its keys and args; its reply is read by the script's wrapper (script-wrappers.ts). */
export type ScriptCaller = (name: ScriptName, keys: string[], args: (string | number)[]) => Promise<unknown>;

type ScriptFn = (...keysThenArgs: (string | number)[]) => Promise<unknown>;

/**
 * Registers every `lua/<name>-<numberOfKeys>.lua` once with ioredis `defineCommand` (which
 * sends EVALSHA and falls back to EVAL), and returns a caller that takes keys and args apart.
 * Every script is registered at connect: none is loaded or read on a request's path.
 */
export function defineScripts(connection: Connection): ScriptCaller {
  const counts = new Map<string, number>();
  for (const file of readdirSync(LUA_DIR)) {
    const match = /^(\w+)-(\d+)\.lua$/.exec(file);
    if (!match) continue;
    const [, name, keys] = match as unknown as [string, string, string];
    connection.define(name, Number(keys), scriptSource(file, LUA_DIR, connection.shardedPubSub));
    counts.set(name, Number(keys));
  }
  return (name, keys, args) => {
    if (counts.get(name) !== keys.length) {
      throw new Error(`script ${name} takes ${counts.get(name)} keys, got ${keys.length}`);
    }
    return connection.run((redis) => ((redis as unknown as Record<string, ScriptFn>)[name] as ScriptFn).call(redis, ...keys, ...args));
  };
}
