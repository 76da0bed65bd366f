'use strict';
// The sandbox bootstrap, preloaded (`node -r bootstrap.cjs <entry folder>`) before node runs its
// main module. It runs on the pinned sandbox runtime under Node's permission model. Protocol on
// fd 3 (a socket to the worker): write "R" when booted, then read one job as one line of JSON
// ({ files, entry, args, collect, maxCollectBytes }), write the job's files into the working
// directory, and point the entry folder's package.json at the job's entry. Then node itself
// loads the entry exactly as `node <entry>` would: CommonJS or ES module (top-level await), or
// TypeScript by the runtime's own type stripping, with node's own stack traces. When the job
// asked to collect files, they go back on fd 3 as one line of JSON when it ends.
//
// Nothing here is trusted: the job shares this realm and can undo any of it. How the job ended
// (status, exit code, signal) and its figures come from corral-spawn and the worker alone; what
// follows only makes the sandbox quick and tidy for a job that leaves it alone.
const fs = require('node:fs');
const path = require('node:path');
// node's own syntax detection (node_contextify.cc): the errors only module syntax causes.
const ESM_ONLY_ERRORS = new Set(['Cannot use import statement outside a module', "Unexpected token 'export'", "Cannot use 'import.meta' outside a module"]);
// Loaded at boot, before the job comes: it and its dependencies take 2 ms to load (see below).
const { performance } = require('node:perf_hooks');

// V8's flags cannot change at run time: a flag such as --allow-natives-syntax would hand the job
// V8's internal functions. Node offers one way to change them from JavaScript, v8.setFlagsFromString
// (process.binding is refused under the permission model); it is replaced, before any of the job's
// code runs, by a function that refuses, and the property can be neither written nor redefined.
// Every way to reach node:v8 (require, import, process.getBuiltinModule) shares this one exports
// object, and the original function is reachable from nowhere else. This does what V8's
// --freeze-flags-after-init did, without its cost: any V8 flag that enters V8's flag hash makes it
// reject node's built-in code cache, so each built-in module the bootstrap and the job loaded was
// compiled again from source (7 ms of CPU for a hello world, 31 ms for a job that loads http,
// crypto and zlib; BENCHMARKS.md).
Object.defineProperty(require('node:v8'), 'setFlagsFromString', {
  value: function setFlagsFromString() {
    const error = new Error('V8 flags cannot change inside a sandbox');
    error.code = 'ERR_ACCESS_DENIED';
    throw error;
  },
  writable: false,
  configurable: false,
  enumerable: true,
});

// Blocking writes: output reaches the worker as it is written, even from a loop that never
// yields (a queued write would grow in memory instead) and right before process.exit().
// An empty write (no bytes, no syscall) takes the stream's write path once before the job comes,
// so that the job's first console.log does not pay for it (about 0.8 ms here).
for (const stream of [process.stdout, process.stderr]) {
  if (stream._handle && typeof stream._handle.setBlocking === 'function') stream._handle.setBlocking(true);
  stream.write('');
}

// The worker starts the sandbox with an empty environment; bubblewrap adds PWD. Nothing stays.
for (const name of Object.keys(process.env)) delete process.env[name];

// node's main argument, captured before this preload ran: the entry folder.
const ENTRY_DIR = process.argv[1];
const WORK = process.cwd();

// The job is one line of JSON: read up to its newline, not until the worker's half-close
// reaches us, which would cost another wake-up.
const JOB_FD = 3;
fs.writeSync(JOB_FD, 'R');
const chunks = [];
for (let buffer = Buffer.allocUnsafe(65536); ; ) {
  const n = fs.readSync(JOB_FD, buffer, 0, buffer.length, null);
  if (n === 0) break;
  chunks.push(Buffer.from(buffer.subarray(0, n)));
  if (buffer[n - 1] === 0x0a) break;
}
const job = JSON.parse(Buffer.concat(chunks).toString('utf8'));
chunks.length = 0;

for (const file of job.files) {
  const target = path.join(WORK, file.name);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.writeFileSync(target, file.encoding === 'base64' ? Buffer.from(file.content, 'base64') : file.content);
}
const entry = path.join(WORK, job.entry);
// A package.json names the main module by an absolute path; node resolves it to the real file
// and takes the module's format from it (and the package.json of its own folders, if the job has one).
fs.writeFileSync(path.join(ENTRY_DIR, 'package.json'), JSON.stringify({ main: entry }));
process.argv = [process.argv[0], entry, ...job.args];
process.execArgv = [];

// TypeScript the worker stripped (the same amaro, the same mode as the runtime: typescript.ts in
// @corral/sandbox): served to node's loader for the job's files as they arrived, so that this
// process never loads and compiles amaro itself (65 ms of CPU). Everything else goes to node's own
// loading: a file the job changed or wrote, a file the worker left unstripped, an ambiguous `.ts`
// whose format only an ES module compile could tell (node then strips and detects it itself).
if (job.stripped) {
  const { registerHooks } = require('node:module');
  const { fileURLToPath } = require('node:url');
  const served = new Map();
  for (const file of job.files) {
    const code = job.stripped[file.name];
    if (typeof code === 'string') served.set(path.join(WORK, file.name), { original: file.content, code });
  }
  registerHooks({
    load(url, context, nextLoad) {
      if (!url.startsWith('file:')) return nextLoad(url, context);
      const file = fileURLToPath(url);
      const entry = served.get(file);
      // node refuses to strip types under node_modules: so does this.
      if (entry === undefined || file.includes(`${path.sep}node_modules${path.sep}`)) return nextLoad(url, context);
      let now;
      try {
        now = fs.readFileSync(file, 'utf8');
      } catch {
        return nextLoad(url, context);
      }
      const format = now === entry.original ? formatOf(file, url, context.format, entry.code) : undefined;
      return format ? { format, source: entry.code, shortCircuit: true } : nextLoad(url, context);
    },
  });
  // The format node would give the stripped file: by extension, by the nearest package.json's
  // "type", else as node's own syntax detection does: it compiles the code as CommonJS and takes
  // it for an ES module on the errors only module syntax causes; undefined leaves it to node.
  function formatOf(file, url, hinted, code) {
    if (file.endsWith('.mts')) return 'module';
    if (file.endsWith('.cts')) return 'commonjs';
    if (hinted === 'module-typescript') return 'module';
    if (hinted === 'commonjs-typescript') return 'commonjs';
    // The nearest package.json, up to the working directory (inside bubblewrap nothing above it has
    // one; node's own findPackageJSON would ask the permission model for the folders above).
    let type;
    for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
      let text;
      try {
        text = fs.readFileSync(path.join(dir, 'package.json'), 'utf8');
      } catch {
        if (dir === WORK || !dir.startsWith(WORK + path.sep)) break;
        continue;
      }
      try {
        type = JSON.parse(text).type;
      } catch {
        return undefined; // node reports the broken package.json
      }
      break;
    }
    if (type === 'module') return 'module';
    if (type === 'commonjs') return 'commonjs';
    try {
      require('node:vm').compileFunction(code, ['exports', 'require', 'module', '__filename', '__dirname'], { filename: file });
      return 'commonjs';
    } catch (error) {
      // Any other syntax error (top-level await, a redeclared `require`, a mistake) needs node's
      // own further compiles to tell: node strips and decides, as for any file not served here.
      return error instanceof SyntaxError && ESM_ONLY_ERRORS.has(error.message) ? 'module' : undefined;
    }
  }
}
job.files = null;

// Files the job asked for, from its working directory, as it ends through node's exit: regular
// files only, within the byte cap (what does not fit is named, without its content).
function collect() {
  const seen = new Set();
  const files = [];
  let left = job.maxCollectBytes;
  for (const pattern of job.collect) {
    let matches = [];
    try {
      matches = fs.globSync(pattern, { cwd: WORK });
    } catch {
      continue;
    }
    for (const name of matches.sort()) {
      if (seen.has(name)) continue;
      seen.add(name);
      const full = path.join(WORK, name);
      let stat;
      try {
        stat = fs.lstatSync(full);
      } catch {
        continue;
      }
      if (!stat.isFile()) continue;
      if (stat.size > left) {
        files.push({ name, size: stat.size, content: '', truncated: true });
        continue;
      }
      left -= stat.size;
      files.push({ name, size: stat.size, content: fs.readFileSync(full).toString('base64') });
    }
  }
  try {
    fs.writeSync(JOB_FD, `${JSON.stringify({ files })}\n`);
  } catch {
    // the worker's end is gone: nobody waits for them
  }
}
if (job.collect.length === 0) fs.closeSync(JOB_FD);

// A quick end: once node has emitted 'exit' and every listener has run, the runtime's own
// teardown (freeing the heap, joining its threads: milliseconds) is skipped by exiting at once
// with the same code. Only node's own exits count (it sets process._exiting before it emits);
// an uncaught exception is printed after 'exit', so then node's own path is kept. A job that
// replaces process.emit merely ends at node's pace.
const reallyExit = process.reallyExit;
let crashed = false;
process.on('uncaughtExceptionMonitor', () => (crashed = true));
const emit = process.emit;
process.emit = function (event, ...args) {
  const result = emit.call(this, event, ...args);
  if (event === 'exit' && process._exiting === true) {
    if (job.collect.length > 0) collect();
    if (!crashed) reallyExit(args[0] ?? process.exitCode ?? 0);
  }
  return result;
};

// The process booted before its job came: its clocks start with the job, as in a fresh
// `node main.js`, and do not tell how long the slot sat idle. (node:perf_hooks is loaded at boot,
// above: loading it here cost 2 ms on every job's path.)
const startedAt = process.hrtime.bigint();
const nowAtStart = performance.now();
process.uptime = function uptime() {
  return Number(process.hrtime.bigint() - startedAt) / 1e9;
};
const now = performance.now.bind(performance);
performance.now = function () {
  return now() - nowAtStart;
};

// `node main.js` has no preloaded module in its cache: neither does the job.
delete require.cache[__filename];
