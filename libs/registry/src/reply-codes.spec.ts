import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import Redis from 'ioredis';
import { startRedisServer, type RedisServer } from '@corral/devkit';
import { luaPreamble, readReply, RegistryReplyError, REPLY, type ReplyName } from './reply-codes';
import { SCRIPT_REPLIES } from './script-wrappers';
import { LUA_DIR, withIncludes, type ScriptName } from './scripts';

/** Each script's own file and the file with its includes, by script name. */
const scripts = new Map(
  readdirSync(LUA_DIR)
    .map((file) => /^(\w+)-\d+\.lua$/.exec(file))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => {
      const own = readFileSync(join(LUA_DIR, m[0]), 'utf8');
      return [m[1] as ScriptName, { own, whole: withIncludes(own) }] as const;
    }),
);

/** The REPLY codes a piece of Lua names. */
function named(lua: string): string[] {
  return [...new Set([...lua.matchAll(/REPLY\.([A-Z_]+)/g)].map((m) => m[1]!))];
}

/** Lua without its comments (headers name the codes in prose too). */
function code(lua: string): string {
  return lua.replace(/--\[\[[\s\S]*?\]\]/g, '').replace(/--.*$/gm, '');
}

describe('reply codes: one enum for Lua and TypeScript', () => {
  it('has a wrapper reply list for every script, and a script for every list', () => {
    expect([...scripts.keys()].sort()).toEqual(Object.keys(SCRIPT_REPLIES).sort());
  });

  it.each([...scripts.keys()])('%s names only codes of the enum, and no bare number', (name) => {
    const lua = code(scripts.get(name)!.whole);
    for (const n of named(lua)) expect(Object.keys(REPLY)).toContain(n);
    expect(lua).not.toMatch(/return\s+-?\d/);
    expect(lua).not.toMatch(/return\s*\{\s*-?\d/);
  });

  it.each([...scripts.keys()])('%s: its wrapper accepts what the script itself returns, and nothing the script cannot say', (name) => {
    const accepted = SCRIPT_REPLIES[name] as readonly string[];
    for (const n of named(code(scripts.get(name)!.own))) expect(accepted).toContain(n);
    const whole = named(code(scripts.get(name)!.whole));
    for (const n of accepted) expect(whole).toContain(n);
  });

  it('uses every code in some script, each number once', () => {
    const used = new Set(Object.values(SCRIPT_REPLIES).flat());
    expect([...used].sort()).toEqual(Object.keys(REPLY).sort());
    expect(new Set(Object.values(REPLY)).size).toBe(Object.keys(REPLY).length);
  });

  it('reads a code alone or first in a table, and refuses an unknown or unexpected one', () => {
    expect(readReply('s', REPLY.OK, ['OK'])).toEqual({ code: 'OK', rest: [] });
    expect(readReply('s', [REPLY.OVER_RATE, 1200], ['OK', 'OVER_RATE'])).toEqual({ code: 'OVER_RATE', rest: [1200] });
    expect(() => readReply('s', 42, ['OK'])).toThrow(RegistryReplyError);
    expect(() => readReply('s', REPLY.NO_SLOT, ['OK'] as ReplyName[])).toThrow(/script s gave an unexpected reply: -1/);
    expect(() => readReply('s', 'OK', ['OK'])).toThrow(RegistryReplyError);
  });

  describe('as Redis runs it', () => {
    let server: RedisServer;
    let redis: Redis;
    beforeAll(async () => {
      server = await startRedisServer();
      redis = new Redis(server.url);
    });
    afterAll(async () => {
      await redis?.quit();
      await server?.stop();
    });

    it('gives the Lua side the same names and numbers as TypeScript', async () => {
      const fromLua = JSON.parse((await redis.eval(`${luaPreamble()}return cjson.encode(REPLY)`, 0)) as string) as unknown;
      expect(fromLua).toEqual(REPLY);
    });
  });
});
