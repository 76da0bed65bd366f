'use strict';
// The sandbox bootstrap: the first and only file a sandbox process loads before user code.
// It runs on the pinned sandbox runtime under Node's permission model with read access to this
// file alone. Protocol on fd 3 (a socket to the worker): write "R" when booted, then read one
// job as one line of JSON, then run the job's code as the CommonJS main
// module `main.js`, exactly as `node main.js` would. stdin/stdout/stderr are the real pipes.
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

// The end of the job, announced in-band: once every 'exit' listener has run, one marker on
// stdout and one on stderr (with the exit code), each after everything the code wrote there.
// The worker answers at once instead of waiting for the runtime's teardown, and kills the
// process. The marker carries a nonce the code cannot see (it lives in this closure only); a
// program that replaces process.emit merely falls back to the slower path (the real exit).
// An uncaught exception is printed after the 'exit' event: then the real exit is awaited.
const nonce = job.nonce;
if (typeof nonce === 'string' && nonce.length > 0) {
  let crashed = false;
  process.on('uncaughtExceptionMonitor', () => (crashed = true));
  const emit = process.emit;
  process.emit = function (event, ...args) {
    const result = emit.call(this, event, ...args);
    if (event === 'exit' && !crashed) {
      const code = process.exitCode ?? args[0] ?? 0;
      try {
        fs.writeSync(1, `\0${nonce}\0`);
        fs.writeSync(2, `\0${nonce}:${code}\0`);
      } catch {
        // a closed stdout or stderr: the worker waits for the real exit instead
      }
    }
    return result;
  };
}

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
