import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type Redis from 'ioredis';

/** The folder of Lua scripts, the same from src/ (tests) and dist/ (services). */
const LUA_DIR = join(__dirname, '..', 'lua');

export type ScriptName =
  | 'publishInventory'
  | 'requestSlot'
  | 'takeAssignment'
  | 'cancelTicket'
  | 'startJob'
  | 'releaseSlot'
  | 'setSlotState'
  | 'releaseClaim'
  | 'recordKill'
  | 'admitKey'
  | 'restoreJob'
  | 'markHostDead';

/** Replaces each `--- @include "name"` line with lua/includes/name.lua (shared functions). */
export function withIncludes(source: string, dir = LUA_DIR): string {
  return source.replace(/^--- @include "([\w-]+)"$/gm, (_line, name: string) => readFileSync(join(dir, 'includes', `${name}.lua`), 'utf8'));
}

type ScriptFn = (...keysThenArgs: (string | number)[]) => Promise<unknown>;

/**
 * Registers every `lua/<name>-<numberOfKeys>.lua` once with ioredis `defineCommand` (which
 * sends EVALSHA and falls back to EVAL), and returns a caller that takes keys and args apart.
 * Every script is registered at connect: none is loaded or read on a request's path.
 */
export function defineScripts(redis: Redis): (name: ScriptName, keys: string[], args: (string | number)[]) => Promise<unknown> {
  const counts = new Map<string, number>();
  for (const file of readdirSync(LUA_DIR)) {
    const match = /^(\w+)-(\d+)\.lua$/.exec(file);
    if (!match) continue;
    const [, name, keys] = match as unknown as [string, string, string];
    redis.defineCommand(name, { numberOfKeys: Number(keys), lua: withIncludes(readFileSync(join(LUA_DIR, file), 'utf8')) });
    counts.set(name, Number(keys));
  }
  return (name, keys, args) => {
    if (counts.get(name) !== keys.length) {
      throw new Error(`script ${name} takes ${counts.get(name)} keys, got ${keys.length}`);
    }
    const fn = (redis as unknown as Record<string, ScriptFn>)[name] as ScriptFn;
    return fn.call(redis, ...keys, ...args);
  };
}
