#!/usr/bin/env node
/**
 * The naive baseline of scenario 1, run as a child process by the harness: an express server
 * that spawns `node -e <code>` of the sandbox runtime for every request and answers its stdout.
 * No pre-booting, no jail, no limits beyond a timeout. `POST /echo` answers at once (scenario 4
 * measures one bare hop with it). Listens on 127.0.0.1, a free port; prints
 * `{"port":N}` on stdout once it listens.
 */
import { execFile } from 'node:child_process';
import express from 'express';

const nodePath = process.env['BENCH_NAIVE_NODE'];
if (!nodePath) {
  process.stderr.write('naive-server: BENCH_NAIVE_NODE must name the node binary to spawn\n');
  process.exit(2);
}

const app = express();
app.disable('x-powered-by');
app.set('etag', false);
app.use(express.json({ limit: '4mb' }));
// One HTTP hop and nothing else: the floor under any hop the stack adds (scenario 4).
app.post('/echo', (_req, res) => {
  res.json({ ok: true });
});
app.post('/run', (req, res) => {
  const code = (req.body as { code?: unknown } | undefined)?.code;
  if (typeof code !== 'string') {
    res.status(400).type('text/plain').send('code must be a string\n');
    return;
  }
  execFile(nodePath, ['-e', code], { timeout: 5000, maxBuffer: 1 << 20, encoding: 'utf8' }, (err, stdout) => {
    res.status(err ? 500 : 200).type('text/plain').send(stdout);
  });
});

const server = app.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`${JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 })}\n`);
});
const stop = (): void => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
