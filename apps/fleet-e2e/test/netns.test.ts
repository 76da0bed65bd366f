import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readlinkSync, readdirSync, statSync } from 'node:fs';
import type { ExecutionResult } from '@corral/client';
import { serviceEntry, waitFor } from '@corral/devkit';
import { Fleet, kernelTestsUnavailable } from './fleet';

/**
 * The netns backend end to end, inside one network namespace of the test's own ("n"): netprov
 * makes a namespace per slot there, and the worker starts each slot's sandbox inside its slot's
 * namespace. Hostile code then tries to reach everything around it; nothing answers.
 */
const firewall = ['nft', 'iptables'].some((tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0);
const skip = kernelTestsUnavailable() ?? (firewall ? null : 'neither nft nor iptables is installed');
const maybe = skip ? describe.skip : describe;
if (skip) console.warn(`netns end-to-end tests skipped: ${skip}`);

let fleet: Fleet;
let env: Record<string, string>;
const CIDR = '10.98.7.0/29';

maybe('netns slots: each sandbox in its slot’s namespace, reaching nothing', () => {
  beforeAll(async () => {
    fleet = new Fleet();
    const n = fleet.addHost('n', 1);
    const password = randomBytes(12).toString('hex');
    env = {
      REDIS_URL: `redis://:${password}@127.0.0.1:6379`,
      CORRAL_REDIS_PREFIX: `netns-${fleet.tag}`,
      CORRAL_HOST_ID: 'netns-host',
      CORRAL_BACKEND: 'netns',
      CORRAL_CIDR: CIDR,
      CORRAL_NETPROV_PREFIX: `n${fleet.tag}-`,
      CORRAL_WORKER_PORT: '7070',
      LOG_LEVEL: 'warn',
    };
    fleet.start('redis', 'n', ['redis-server', '--port', '6379', '--bind', '127.0.0.1', '--requirepass', password, '--save', '', '--appendonly', 'no']);
    await waitFor('Redis', () => fleet.exec('n', ['redis-cli', '-a', password, '--no-auth-warning', 'ping']).out.includes('PONG'));
    const up = fleet.exec('n', [process.execPath, serviceEntry('netprov'), 'up', '--count', '2'], env);
    expect(up.code).toBe(0);
    fleet.service('worker', 'n', env);
    fleet.service('watchdog', 'n', env);
    fleet.service('router', 'n', { ...env, PORT: '8080' });
    fleet.forward('n', 8080);
    void n;
    await waitFor('2 idle slots', async () => (await fleet.client.pool()).idle === 2, { timeoutMs: 60_000, intervalMs: 200 });
  }, 90_000);

  afterAll(async () => {
    if (fleet) {
      await Promise.all(fleet.services.map((s) => s.stop(5000)));
      fleet.exec('n', [process.execPath, serviceEntry('netprov'), 'down'], env);
      // Backstop: nothing of this test's prefix may outlive it.
      for (const name of readdirSync('/run/netns').filter((x) => x.startsWith(`n${fleet.tag}-`))) spawnSync('ip', ['netns', 'del', name]);
      await fleet.destroy([env['CORRAL_HOST_ID'] ?? '']);
    }
  });

  it('starts each slot’s sandbox inside the slot’s own network namespace', async () => {
    const pool = await fleet.client.pool();
    for (const [i, slot] of pool.slots.entries()) {
      const inode = statSync(`/run/netns/n${fleet.tag}-n${i}`).ino;
      expect(readlinkSync(`/proc/${slot.pid}/ns/net`)).toBe(`net:[${inode}]`);
    }
  });

  it('hostile code reaches neither Redis, the router, the workers, another slot nor the host; the execution answers', async () => {
    const targets = [
      ['redis', '127.0.0.1', 6379],
      ['router', '127.0.0.1', 8080],
      ['its own worker', '10.98.7.1', 7070],
      ['the other slot', '10.98.7.2', 7070],
      ['the host', '10.99.0.1', 6379],
      ['the host gateway', '10.99.0.254', 80],
    ] as const;
    const code = `
      const net = require('net');
      const targets = ${JSON.stringify(targets)};
      let left = targets.length;
      for (const [name, host, port] of targets) {
        const s = net.connect({ host, port, timeout: 1500 });
        const done = (what) => { console.log(name + ': ' + what); s.destroy(); if (--left === 0) process.exitCode = 0; };
        s.on('connect', () => done('CONNECTED'));
        s.on('error', (e) => done('failed ' + e.code));
        s.on('timeout', () => done('failed timeout'));
      }`;
    const answer = await fleet.client.execute({ code, timeoutMs: 5000 }, { raw: true });
    expect(answer.status).toBe(200);
    const body = answer.body as ExecutionResult;
    expect(body.status).toBe('ok');
    const lines = body.stdout.trim().split('\n').sort();
    expect(lines).toHaveLength(targets.length);
    for (const line of lines) expect(line).toMatch(/: failed /);
  });
});
