import type { ExecutionRequest } from '@corral/client';

/**
 * Programs as people send them, each run by corral and by `node <entry>` of the same runtime in
 * a folder of its own: their stdout, stderr and exit code must be the same (programs.test.ts).
 * Kept to what a plain `node main.js` may also do (no files outside its folder, no network).
 */
export interface Program {
  name: string;
  request: ExecutionRequest;
}

const js = (name: string, code: string, extra: Partial<ExecutionRequest> = {}): Program => ({ name, request: { code, ...extra } });
const ts = (name: string, code: string): Program => ({ name, request: { language: 'typescript', code } });
const tree = (name: string, files: Record<string, string>, extra: Partial<ExecutionRequest> = {}): Program => ({
  name,
  request: { files: Object.entries(files).map(([file, content]) => ({ name: file, content })), ...extra },
});

export const PROGRAMS: readonly Program[] = [
  // CommonJS
  js('hello', 'console.log("hello")'),
  js('builtins by require', 'const path = require("node:path"); const os = require("os"); console.log(path.join("a", "b"), JSON.stringify(os.EOL))'),
  js('exitCode', 'process.exitCode = 3; console.log("set")'),
  js('process.exit', 'console.log("before"); process.exit(7); console.log("after")'),
  js('exit code beyond 255', 'process.exitCode = 256 + 4'),
  js('uncaught exception', 'function f() { throw new Error("boom") }\nf()'),
  js('uncaught TypeError', 'null.x'),
  js('unhandled rejection', 'Promise.reject(new Error("nope"))'),
  js('throws a string', 'throw "just a string"'),
  js('module identity', 'console.log(require.main === module, __filename, __dirname, module.id, Object.keys(require.cache))'),
  js('stdin', 'console.log(require("fs").readFileSync(0, "utf8").toUpperCase())', { stdin: 'from stdin\n' }),
  js('process.stdin events', 'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => console.log(s.split("\\n").length))', { stdin: 'a\nb\nc\n' }),
  js('args', 'console.log(process.argv.slice(2), process.argv.length, process.argv[1])', { args: ['one', 'two words', '--flag'] }),
  // From the main module a timeout and an immediate run in either order (node documents it);
  // from an I/O callback the immediate always runs first, so the table schedules them there.
  js('event loop order', 'require("fs").readFile(__filename, () => { setTimeout(() => console.log("timeout")); setImmediate(() => console.log("immediate")); process.nextTick(() => console.log("tick")); Promise.resolve().then(() => console.log("micro")); console.log("sync") })'),
  js('stderr and stdout', 'console.error("to stderr"); console.log("to stdout"); process.stderr.write("raw\\n")'),
  js('exit and beforeExit listeners', 'process.on("beforeExit", (c) => console.log("beforeExit", c)); process.on("exit", (c) => console.log("exit", c)); console.log("main")'),
  js('execArgv', 'console.log(JSON.stringify(process.execArgv))'),
  js('write without a newline', 'process.stdout.write("no newline")'),
  js('100 KB of output', 'console.log("x".repeat(100 * 1024))'),
  js('BigInt and Symbol', 'console.log(2n ** 64n, Symbol("s"), [1, [2, [3, [4]]]], { a: { b: { c: { d: 1 } } } })'),
  js('syntax error', 'const = 1'),
  js('ambiguous syntax', 'const x = await Promise.resolve(1); console.log(require("fs") !== undefined)'),
  // ES modules, detected as node detects them
  js('top-level await', 'const x = await Promise.resolve(42); console.log(x)'),
  js('import of builtins', 'import { join } from "node:path"; import os from "node:os"; console.log(join("x", "y"), typeof os.cpus)'),
  js('import.meta', 'console.log(import.meta.url, import.meta.filename, import.meta.dirname, typeof import.meta.resolve)'),
  js('ESM throw', 'import "node:fs"; throw new Error("esm boom")'),
  js('dynamic import', 'const { sep } = await import("node:path"); console.log(sep)'),
  js('ESM exitCode', 'import "node:fs"; process.exitCode = 5'),
  // Several files
  tree('an .mjs entry with a JSON import', {
    'main.mjs': 'import data from "./data/x.json" with { type: "json" };\nimport { add } from "./lib/util.mjs";\nconsole.log(add(data.a, 2));',
    'lib/util.mjs': 'export const add = (a, b) => a + b;',
    'data/x.json': '{ "a": 40 }',
  }),
  tree('CommonJS with nested requires', {
    'index.js': 'const { twice } = require("./lib/a"); console.log(twice(21), require("./lib/b.js").name);',
    'lib/a.js': 'const b = require("./b"); exports.twice = (n) => n * b.factor;',
    'lib/b.js': 'module.exports = { factor: 2, name: "b" };',
  }),
  tree('a data file read with fs', { 'main.js': 'console.log(require("fs").readFileSync("./data/input.txt", "utf8").trim())', 'data/input.txt': 'from a data file\n' }),
  tree(
    'package.json type module',
    { 'package.json': '{ "type": "module" }', 'main.js': 'import { v } from "./v.js"; console.log(v, typeof require)', 'v.js': 'export const v = "esm by package.json";' },
    { entry: 'main.js' },
  ),
  tree('require(esm)', { 'main.js': 'const m = require("./m.mjs"); console.log(m.value, m.default)', 'm.mjs': 'export const value = 1; export default "d";' }),
  tree('require of an async module', { 'main.js': 'require("./m.mjs")', 'm.mjs': 'await Promise.resolve(); export const v = 1;' }),
  tree('an entry named by entry', { 'lib.js': 'module.exports = 1;', 'app/start.js': 'console.log(require("../lib.js") + 1, __filename)' }, { entry: 'app/start.js' }),
  // TypeScript, by the runtime's own type stripping
  ts('type annotations', 'const n: number = 3;\ninterface P { x: number }\nconst p: P = { x: n };\nconsole.log(p.x * 2)'),
  ts('a type error only (runs, as node runs it)', 'const n: number = "not a number";\nconst s: string = 42;\nconsole.log(n, s)'),
  ts('a TypeScript syntax error', 'const n: number = ;'),
  ts('an enum (needs more than stripping)', 'enum Color { Red }\nconsole.log(Color.Red)'),
  ts('generics and top-level await', 'async function id<T>(v: T): Promise<T> { return v }\nconsole.log(await id<string>("ok"))'),
  tree('a .mts entry importing .mts', { 'main.mts': 'import { greet } from "./greet.mts";\nconsole.log(greet("ts"));', 'greet.mts': 'export function greet(name: string): string { return `hi ${name}`; }' }),
];
