import { connect } from 'node:net';
import { ERROR_HEADER, STATUS_HEADER, TOKEN_HEADER } from '@corral/contracts';
import { waitFor } from '@corral/devkit';
import { registry, router, routerHarness, slots, standIn, workerPort } from './harness';

/**
 * Clients that leave at every moment of a request, against the router with real sockets, a real
 * Redis and stand-in workers that keep the worker contract: use up the token, answer after
 * `jobMs`, stop the job when the router's connection closes, then put the slot back.
 */
const host = 'a1';
routerHarness({ host, prefixName: 'abandon', queueTimeoutMs: 3000 });
/** How each job a stand-in took ended: answered, or stopped because the router's connection closed. */
let jobs: ('answered' | 'stopped' | 'refused')[] = [];
/** How many jobs the stand-ins have started. */
let started = 0;

async function standInWorker(i: number, jobMs: number): Promise<void> {
  const slotId = `${host}:${i}`;
  await standIn(i, (req, res) => {
    req.resume();
    req.on('end', async () => {
      const token = String(req.headers[TOKEN_HEADER]);
      const entry = { slotId, token, pid: 1, pgid: 1, cpuBaseMs: 0, cpuMs: 1000, memoryMb: 64, startedAt: Date.now() };
      if ((await registry.jobs.start(host, entry, 60_000)) !== 'started') {
        jobs.push('refused');
        res.writeHead(403, { [ERROR_HEADER]: 'bad_token' }).end();
        return;
      }
      started += 1;
      const putBack = (): void => void registry.slots.ready(host, slotId, token, 1, workerPort);
      const timer = setTimeout(() => {
        jobs.push('answered');
        res.writeHead(200, { 'content-type': 'application/json', [STATUS_HEADER]: 'ok' });
        res.end(JSON.stringify({ status: 'ok' }));
        putBack();
      }, jobMs);
      res.once('close', () => {
        if (res.writableFinished) return;
        clearTimeout(timer);
        jobs.push('stopped');
        putBack();
      });
    });
  });
}

/**
 * A client on a raw socket: sends `body` (the first `sendBytes` of it; all by default), then
 * destroys the socket after `leaveAfterMs`, or once `leaveAfterMs` resolves. Resolves once the
 * socket is closed.
 */
function abandon(body: string, leaveAfterMs: number | Promise<unknown>, sendBytes = body.length): Promise<void> {
  const { port, hostname } = new URL(router.url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    socket.on('error', () => undefined);
    socket.on('close', () => resolve());
    socket.write(`POST /v1/executions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`);
    socket.write(body.slice(0, sendBytes));
    if (typeof leaveAfterMs === 'number') setTimeout(() => socket.destroy(), leaveAfterMs);
    else void leaveAfterMs.then(() => socket.destroy());
  });
}

async function idleAndConsistent(count: number): Promise<void> {
  await waitFor(
    `${count} slots idle and the pool consistent`,
    async () => {
      const pool = await registry.slots.pool();
      return pool.idle === count && pool.consistent;
    },
    { timeoutMs: 2000, intervalMs: 20 },
  );
}

beforeEach(() => {
  jobs = [];
  started = 0;
});

const BODY = JSON.stringify({ code: 'console.log(1)' });

/** Resolves once the stand-ins have started `count` jobs. */
const jobsStarted = (count: number): Promise<unknown> => waitFor(`${count} jobs started`, async () => started >= count, { timeoutMs: 5000, intervalMs: 5 });

describe('clients that leave (real sockets, real Redis, stand-in workers)', () => {
  it('a client that leaves while its job runs: the router cuts its connection to the worker, the slot is idle again at once', async () => {
    await standInWorker(0, 5000);
    await slots(1);
    await abandon(BODY, jobsStarted(1));
    await waitFor('the job stopped', async () => jobs.length === 1, { timeoutMs: 2000, intervalMs: 20 });
    expect(jobs).toEqual(['stopped']);
    await idleAndConsistent(1);
  });

  it('a client that leaves before its body ends holds nothing', async () => {
    await standInWorker(0, 0);
    await slots(1);
    await abandon(BODY, 50, 5);
    await idleAndConsistent(1);
    expect(jobs).toEqual([]);
  });

  it('a client that leaves while queued gives its place back; the slot goes to the next request', async () => {
    await standInWorker(0, 300);
    await slots(1);
    const first = abandon(BODY, 1000);
    await jobsStarted(1);
    await abandon(BODY, 100); // queued behind the first, then gone
    await first;
    await idleAndConsistent(1);
    expect(jobs).toEqual(['answered']);
  });

  it('many clients leaving at random moments leave every slot idle and the next request runs at once', async () => {
    await standInWorker(0, 30);
    await standInWorker(1, 30);
    await slots(2);
    for (let burst = 0; burst < 5; burst += 1) {
      await Promise.all(Array.from({ length: 40 }, (_, n) => abandon(BODY, Math.floor(Math.random() * 60), n % 10 === 0 ? 5 : undefined)));
    }
    await idleAndConsistent(2);
    const started = Date.now();
    const res = await fetch(`${router.url}/v1/executions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: BODY });
    expect(res.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
