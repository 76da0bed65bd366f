'use strict';
// The sandbox bootstrap: the first and only file a sandbox process loads before user code.
// It runs on the pinned sandbox runtime under Node's permission model with read access to this
// file alone. Protocol on fd 3 (a socket to the worker): write "R" when booted, then read one
// job as one line of JSON, then run the job's code as the CommonJS main module `main.js`,
// exactly as `node main.js` would. stdin/stdout/stderr are the real pipes.
//
// Nothing here is trusted: the job shares this realm and can undo any of it. How the job ended
// (status, exit code, signal) and its figures come from corral-spawn and the worker alone; what
// follows only makes the sandbox quick and tidy for a job that leaves it alone.
const fs = require('node:fs');
const Module = require('node:module');
const path = require('node:path');

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
fs.closeSync(JOB_FD);

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
  if (event === 'exit' && process._exiting === true && !crashed) reallyExit(args[0] ?? process.exitCode ?? 0);
  return result;
};

// The process booted before its job came: its clocks start with the job, as in a fresh
// `node main.js`, and do not tell how long the slot sat idle.
const { performance } = require('node:perf_hooks');
const startedAt = process.hrtime.bigint();
const nowAtStart = performance.now();
process.uptime = function uptime() {
  return Number(process.hrtime.bigint() - startedAt) / 1e9;
};
const now = performance.now.bind(performance);
performance.now = function () {
  return now() - nowAtStart;
};

const dir = process.cwd();
const filename = path.join(dir, 'main.js');
const main = new Module(filename, null);
main.filename = filename;
main.id = '.';
main.paths = Module._nodeModulePaths(dir);
process.mainModule = main;
process.argv = [process.argv[0], filename, ...job.args];
main._compile(job.code, filename);
main.loaded = true;
