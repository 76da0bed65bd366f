import { randomBytes } from 'node:crypto';
import type { PoolAnswer } from '@corral/client';
import { serviceEntry, waitFor } from '@corral/devkit';
import { Fleet, kernelTestsUnavailable, type Service } from './fleet';

/**
 * Two worker hosts behind one router, on a bridge, each host a network namespace of the test's
 * own: host "r" runs Redis and the router, hosts "a" and "b" each run netprov (tap slots from a
 * range of their own), a worker and a watchdog. The router host routes each worker host's slot
 * range through the bridge. Nothing leaves the namespaces.
 */
const skip = kernelTestsUnavailable();
const maybe = skip ? describe.skip : describe;
if (skip) console.warn(`fleet end-to-end tests skipped: ${skip}`);

const SLOTS = 3;
const WORKERS = { a: { ip: 2, cidr: '172.16.1.0/24', id: 'fleet-a' }, b: { ip: 3, cidr: '172.16.2.0/24', id: 'fleet-b' } } as const;
type WorkerHost = keyof typeof WORKERS;

interface Result {
  id?: string;
  status?: string;
  stdout?: string;
  error?: { code: string; message: string };
}

let fleet: Fleet;
const workers = new Map<WorkerHost, Service>();

/** Which worker host ran each of `ids`, from the workers' "job done" log lines (logged asynchronously). */
async function hostsOf(ids: readonly (string | undefined)[]): Promise<(WorkerHost | undefined)[]> {
  await waitFor('the workers\' log lines', () => ids.every((id) => servedBy().has(id ?? '')), { timeoutMs: 3000 }).catch(() => undefined);
  const by = servedBy();
  return ids.map((id) => by.get(id ?? ''));
}

/** Which worker host ran each execution, from the workers' "job done" log lines. */
function servedBy(): Map<string, WorkerHost> {
  const result = new Map<string, WorkerHost>();
  for (const [host, service] of workers) {
    for (const line of service.logs) if (line['msg'] === 'job done') result.set(String(line['requestId']), host);
  }
  return result;
}

function pool(): Promise<PoolAnswer> {
  return fleet.client.pool();
}

/** The raw answer, whatever its status: a stopped host may cause clear errors, which are counted. */
async function run(code: string): Promise<{ status: number; body: Result }> {
  const { status, body } = await fleet.client.execute({ code }, { raw: true });
  return { status, body: body as Result };
}

maybe('a fleet: router and Redis on one host, two worker hosts with tap slots', () => {
  beforeAll(async () => {
    fleet = new Fleet();
    const password = randomBytes(12).toString('hex');
    const r = fleet.addHost('r', 1);
    const common = {
      REDIS_URL: `redis://:${password}@${r.ip}:6379`,
      CORRAL_REDIS_PREFIX: `fleet-${fleet.tag}`,
      LOG_LEVEL: 'info',
      CORRAL_SHUTDOWN_GRACE_MS: '5000',
      CORRAL_INVENTORY_POLL_MS: '1000',
    };
    fleet.start('redis', 'r', ['redis-server', '--port', '6379', '--bind', r.ip, '--requirepass', password, '--save', '', '--appendonly', 'no', '--loglevel', 'warning']);
    for (const [name, w] of Object.entries(WORKERS)) {
      fleet.addHost(name, w.ip);
      fleet.route('r', w.cidr, name);
    }
    await waitFor('Redis on the router host', () => fleet.exec('r', ['redis-cli', '-h', r.ip, '-a', password, '--no-auth-warning', 'ping']).out.includes('PONG'), { timeoutMs: 5000 });
    for (const [name, w] of Object.entries(WORKERS) as [WorkerHost, (typeof WORKERS)[WorkerHost]][]) {
      const env = { ...common, CORRAL_HOST_ID: w.id, CORRAL_BACKEND: 'tap', CORRAL_CIDR: w.cidr, CORRAL_WORKER_PORT: '7070' };
      const up = fleet.exec(name, [process.execPath, serviceEntry('netprov'), 'up', '--count', String(SLOTS)], env);
      expect(up).toMatchObject({ code: 0, out: expect.stringContaining(`created ${SLOTS}`) });
      workers.set(name, fleet.service('worker', name, env));
      fleet.service('watchdog', name, env);
    }
    fleet.service('router', 'r', { ...common, CORRAL_HOST_ID: 'fleet-r', PORT: '8080', HOST: '127.0.0.1', LOG_LEVEL: 'warn' });
    fleet.forward('r', 8080);
    await waitFor(
      `${2 * SLOTS} idle slots`,
      async () => {
        for (const s of fleet.services) if (s.child.exitCode !== null) throw new Error(`${s.name} exited: ${JSON.stringify(s.logs.slice(-3))}`);
        return (await pool()).idle === 2 * SLOTS;
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    );
  }, 90_000);

  afterAll(async () => {
    await fleet?.destroy(Object.values(WORKERS).map((w) => w.id));
  });

  it('publishes each host with its own addresses, reachable through the bridge', async () => {
    const slots = (await pool()).slots;
    expect(slots.map((s) => [s.id, s.ip])).toEqual([
      ['fleet-a:0', '172.16.1.1'],
      ['fleet-a:1', '172.16.1.2'],
      ['fleet-a:2', '172.16.1.3'],
      ['fleet-b:0', '172.16.2.1'],
      ['fleet-b:1', '172.16.2.2'],
      ['fleet-b:2', '172.16.2.3'],
    ]);
  });

  it('spreads executions over both worker hosts', async () => {
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => run(`setTimeout(() => console.log(${i}), 100)`)));
    expect(answers.map((a) => [a.status, a.body.status])).toEqual(Array.from({ length: 12 }, () => [200, 'ok']));
    expect(answers.map((a) => a.body.stdout)).toEqual(Array.from({ length: 12 }, (_, i) => `${i}\n`));
    const hosts = await hostsOf(answers.map((a) => a.body.id));
    expect(hosts.filter((h) => h === 'a').length).toBeGreaterThan(0);
    expect(hosts.filter((h) => h === 'b').length).toBeGreaterThan(0);
    expect(hosts.filter((h) => h === undefined)).toEqual([]);
  });

  it('keeps answering when worker host a stops mid-traffic; its slots leave the idle set', async () => {
    const answers: { status: number; body: Result }[] = [];
    let stop = false;
    const client = async (): Promise<void> => {
      while (!stop) answers.push(await run('setTimeout(() => console.log("x"), 150)'));
    };
    const clients = Promise.all(Array.from({ length: 4 }, client));
    await waitFor('traffic on both hosts', () => new Set(servedBy().values()).size === 2 && answers.length >= 8, { timeoutMs: 10_000 });
    const before = answers.length;
    const a = workers.get('a') as Service;
    expect(await a.stop()).toBe(0); // SIGTERM: finishes what runs, takes its slots out of service
    await new Promise((r) => setTimeout(r, 2000));
    stop = true;
    await clients;
    expect(answers.length).toBeGreaterThan(before + 4); // traffic went on
    for (const answer of answers) {
      // Every request got a result or a clear error, never a hang or a broken answer.
      if (answer.status === 200) expect(answer.body).toMatchObject({ status: 'ok', stdout: 'x\n' });
      else expect(answer.body.error?.code).toMatch(/^(worker_failed|no_capacity|unavailable)$/);
    }
    expect(answers.filter((x) => x.status === 200).length).toBeGreaterThan(answers.length * 0.8);
    // A worker stopped with SIGTERM takes all its slots out of service, those that were running a job too.
    const aStates = (await pool()).slots.filter((s) => s.host === 'fleet-a').map((s) => s.state);
    expect(aStates).toEqual(Array(SLOTS).fill('dead'));
    await waitFor('host b idle again', async () => (await pool()).slots.filter((s) => s.host === 'fleet-b' && s.state === 'idle').length === SLOTS);
    // From now on, host b answers everything.
    const after = await Promise.all(Array.from({ length: 6 }, () => run('console.log("b")')));
    expect(after.map((x) => x.body.stdout)).toEqual(Array.from({ length: 6 }, () => 'b\n'));
    expect(await hostsOf(after.map((x) => x.body.id))).toEqual(Array.from({ length: 6 }, () => 'b'));
    expect((await pool()).slots.filter((s) => s.host === 'fleet-a' && s.state === 'idle')).toEqual([]);
  });
});
