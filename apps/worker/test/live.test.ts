import { request, type IncomingMessage } from 'node:http';
import { loadWorkerConfig } from '@corral/config';
import { ERROR_HEADER, REQUEST_ID_HEADER, STREAM_HEADER, TOKEN_HEADER, WORKER_RUN_PATH, type Lease } from '@corral/contracts';
import { freePort, randomLoopbackBase, randomPrefix, startRedisServer, waitFor, type RedisServer } from '@corral/devkit';
import { Registry } from '@corral/registry';
import { createLogger } from '@corral/service';
import { startWorker, type WorkerHandle } from '../src/lib/worker';

/** The worker's live hand-over (x-corral-stream): NDJSON both ways, with real sandboxes and a real Redis. */
let redis: RedisServer;
let registry: Registry;
let worker: WorkerHandle;
const host = 'lw1';

function ip(base: string, i: number): string {
  const parts = base.split('.').map(Number);
  return `${parts[0]}.${parts[1]}.${parts[2]}.${parts[3]! + i}`;
}

beforeAll(async () => {
  redis = await startRedisServer();
  const prefix = randomPrefix('live');
  const base = randomLoopbackBase();
  const port = await freePort(ip(base, 0));
  registry = await Registry.connect({ url: redis.url, prefix });
  await registry.slots.publish(host, 'loopback', [{ id: `${host}:0`, ip: ip(base, 0) }]);
  const config = loadWorkerConfig({ REDIS_URL: redis.url, CORRAL_REDIS_PREFIX: prefix, CORRAL_HOST_ID: host, CORRAL_WORKER_PORT: String(port), CORRAL_INVENTORY_POLL_MS: '200' });
  worker = await startWorker(config, createLogger('worker', 'silent'));
});

afterAll(async () => {
  await worker?.close();
  await registry?.close();
  await redis?.stop();
});

const claim = (): Promise<Lease> => waitFor('an idle slot', () => registry.queue.claim(5000, 'test'), { timeoutMs: 30_000 });

/** Opens a live hand-over; lines read from the answer, and a way to send control lines. */
function live(lease: Lease, first: unknown, token = lease.token) {
  const lines: Array<Record<string, unknown>> = [];
  const upstream = request({
    host: lease.ip,
    port: lease.port,
    method: 'POST',
    path: WORKER_RUN_PATH,
    headers: { 'content-type': 'application/x-ndjson', [TOKEN_HEADER]: token, [REQUEST_ID_HEADER]: 'live-1', [STREAM_HEADER]: '1' },
  });
  upstream.on('error', () => undefined);
  const answer = new Promise<IncomingMessage>((resolve) => upstream.once('response', resolve));
  const ended = answer.then(
    (res) =>
      new Promise<void>((resolve) => {
        let pending = '';
        res.setEncoding('utf8');
        res.on('data', (text: string) => {
          pending += text;
          for (let nl = pending.indexOf('\n'); nl !== -1; nl = pending.indexOf('\n')) {
            lines.push(JSON.parse(pending.slice(0, nl)) as Record<string, unknown>);
            pending = pending.slice(nl + 1);
          }
        });
        res.once('end', () => {
          if (pending) lines.push(JSON.parse(pending) as Record<string, unknown>);
          resolve();
        });
        res.once('close', () => resolve());
      }),
  );
  upstream.write(`${JSON.stringify(first)}\n`);
  return { answer, ended, lines, send: (message: unknown) => upstream.write(`${JSON.stringify(message)}\n`), cut: () => upstream.destroy() };
}

const text = (lines: Array<Record<string, unknown>>): string =>
  lines
    .filter((l) => l['type'] === 'stdout')
    .map((l) => l['data'])
    .join('');

describe('the live hand-over', () => {
  it('streams output, takes stdin sent before and after the start, and ends with the result', async () => {
    const lease = await claim();
    const code = 'process.stdout.write("ready\\n"); let s = ""; process.stdin.on("data", (d) => (s += d)); process.stdin.on("end", () => console.log(s));';
    const job = live(lease, { interactive: true, includeOutput: false, job: { code } });
    job.send({ type: 'stdin', data: 'early ' });
    expect((await job.answer).statusCode).toBe(200);
    await waitFor('ready', () => text(job.lines).includes('ready'));
    job.send({ type: 'stdin', data: 'late' });
    job.send({ type: 'stdin_end' });
    await job.ended;
    expect(text(job.lines)).toBe('ready\nearly late\n');
    expect(job.lines.at(-1)).toMatchObject({ type: 'result', result: { status: 'ok', stdout: '', id: 'live-1' } });
  });

  it('a used token is refused before the start, as an ordinary error answer', async () => {
    const lease = await claim();
    const first = live(lease, { interactive: false, includeOutput: true, job: { code: '1' } });
    await first.ended;
    const again = live(lease, { interactive: false, includeOutput: true, job: { code: '1' } });
    const res = await again.answer;
    expect(res.statusCode).toBe(403);
    expect(res.headers[ERROR_HEADER]).toBe('bad_token');
    await again.ended;
  });

  it('forwards SIGINT, and a router that cuts the hand-over ends the job at once', async () => {
    const lease = await claim();
    const job = live(lease, { interactive: true, includeOutput: false, job: { code: 'console.log("go"); setInterval(() => {}, 1000);', timeoutMs: 30_000 } });
    await waitFor('go', () => text(job.lines).includes('go'));
    job.send({ type: 'signal', signal: 'SIGINT' });
    await job.ended;
    expect(job.lines.at(-1)).toMatchObject({ type: 'result', result: { signal: 'SIGINT' } });

    const next = await claim();
    const cut = live(next, { interactive: true, includeOutput: false, job: { code: 'console.log("go"); setInterval(() => {}, 1000);', timeoutMs: 30_000 } });
    await waitFor('go', () => text(cut.lines).includes('go'));
    cut.cut();
    await waitFor('the slot idle again', async () => (await registry.slots.pool()).idle === 1, { timeoutMs: 5000 });
  });
});
