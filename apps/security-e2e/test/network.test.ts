import { connect } from 'node:net';
import { TOKEN_HEADER, WORKER_RUN_PATH } from '@corral/contracts';
import { freePort } from '@corral/devkit';
import { busySlot, expectContained, expectHealthy, program, run, sleep, startHostile, tcpSink, udpSink, type Hostile } from './helpers';

/**
 * The network. Every address used here is on loopback (127.0.0.0/8, ::1), and no name is ever
 * resolved by a real resolver: only `localhost` (from /etc/hosts) and a resolver whose only
 * server is a UDP socket of this test. The contained outcome: each attempt fails inside the
 * sandbox, and the target (where the test can see it) saw nothing.
 */
let h: Hostile;
let service: Awaited<ReturnType<typeof tcpSink>>;
let service6: Awaited<ReturnType<typeof tcpSink>> | null = null;
let udp: Awaited<ReturnType<typeof udpSink>>;
let dns: Awaited<ReturnType<typeof udpSink>>;

beforeAll(async () => {
  h = await startHostile();
  service = await tcpSink('127.0.0.1');
  service6 = await tcpSink('::1').catch(() => null); // only where the host has IPv6 loopback
  udp = await udpSink();
  dns = await udpSink();
});
afterAll(async () => {
  await Promise.all([service?.close(), service6?.close(), udp?.close(), dns?.close()]);
  await h?.stop();
});

/** What a host client gets back from `ip:port` for a bare HTTP request ('' when it cannot connect). */
function hostRequest(ip: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    let reply = '';
    const socket = connect({ port, host: ip });
    const timer = setTimeout(() => socket.destroy(), 1000);
    socket.on('connect', () => socket.write('GET / HTTP/1.0\r\n\r\n'));
    socket.on('data', (chunk) => (reply += chunk.toString()));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(reply);
    });
  });
}

describe('network', () => {
  it('cannot connect to Redis (127.0.0.1:<redis port>)', async () => {
    const a = await run(h, program(`tcp('redis on 127.0.0.1:${h.redis.port}', ${h.redis.port}, '127.0.0.1');`));
    expectContained(a, ['ok'], 1);
  });

  it('cannot reach the router: TCP, and fetch(http://127.0.0.1:<router port>/healthz)', async () => {
    const a = await run(h, program(`(async () => {
      await tcp('the router', ${h.routerPort}, '127.0.0.1');
      await attemptAsync('fetch(/healthz) of the router', async () => (await fetch('http://127.0.0.1:${h.routerPort}/healthz')).status);
    })();`));
    expectContained(a, ['ok'], 2);
  });

  it("cannot connect to the worker port on its own slot's address or any other slot's, nor hand a worker a job", async () => {
    const targets = h.slots.map((s) => s.ip);
    const a = await run(h, program(`(async () => {
      for (const ip of ${JSON.stringify(targets)}) await tcp('the worker on ' + ip + ':${h.workerPort}', ${h.workerPort}, ip);
      for (const ip of ${JSON.stringify(targets)}) await attemptAsync('POST a forged job to ' + ip, async () => {
        const res = await fetch('http://' + ip + ':${h.workerPort}${WORKER_RUN_PATH}', { method: 'POST', headers: { 'content-type': 'application/json', '${TOKEN_HEADER}': 'forged' },
          body: JSON.stringify({ code: 'console.log(1)', stdin: '', args: [], timeoutMs: 1000, cpuMs: 1000, memoryMb: 128 }) });
        return res.status + ' ' + (await res.text()).slice(0, 80);
      });
    })();`));
    expectContained(a, ['ok'], 2 * targets.length);
  });

  it('cannot impersonate a slot: listen(<worker port>, <slot address>) is not what the host reaches', async () => {
    const pending = run(h, program(`
      const net = require('node:net');
      for (const ip of ${JSON.stringify(h.slots.map((s) => s.ip))}) for (const reusePort of [false, true]) {
        const server = net.createServer((s) => s.end('HTTP/1.0 200 OK\\r\\n\\r\\nIMPERSONATED'));
        server.on('error', (e) => console.log('listen on ' + ip + (reusePort ? ' (reusePort)' : '') + ': ' + e.code));
        server.listen({ port: ${h.workerPort}, host: ip, reusePort }, () => console.log('listening on ' + ip + (reusePort ? ' (reusePort)' : '')));
      }
      setTimeout(() => process.exit(0), 2000);
    `));
    await busySlot(h);
    await sleep(300);
    const replies = await Promise.all(h.slots.map((s) => hostRequest(s.ip, h.workerPort)));
    const others = await Promise.all(h.slots.slice(1).map((_, i) => run(h, { code: `console.log('real ${i}')` })));
    const a = await pending;
    expect(replies.filter((r) => r.includes('IMPERSONATED'))).toEqual([]);
    expect(others.map((o) => o.body.stdout)).toEqual(h.slots.slice(1).map((_, i) => `real ${i}\n`));
    expectContained(a, ['ok']);
  });

  it('a server listening inside the sandbox (127.0.0.1, an unused slot-range address) is out of the host’s reach', async () => {
    const port = await freePort();
    const spare = h.slots[0]!.ip.replace(/\.\d+$/, '.250');
    const pending = run(h, program(`
      for (const host of ['127.0.0.1', ${JSON.stringify(spare)}]) {
        const server = require('node:net').createServer((s) => s.end('FROM THE SANDBOX'));
        server.on('error', (e) => console.log('listen on ' + host + ': ' + e.code));
        server.listen(${port}, host, () => console.log('listening on ' + host));
      }
      setTimeout(() => process.exit(0), 2000);
    `));
    await busySlot(h);
    const seen: string[] = [];
    for (let i = 0; i < 5; i += 1) {
      await sleep(200);
      for (const host of ['127.0.0.1', spare]) {
        const reply = await hostRequest(host, port);
        if (reply) seen.push(`${host}: ${reply}`);
      }
    }
    const a = await pending;
    expect(seen).toEqual([]);
    expectContained(a, ['ok']);
  });

  it('cannot reach a host service on 127.0.0.1 (or ::1): the service sees no connection', async () => {
    const a = await run(h, program(`(async () => {
      await tcp('a host service on 127.0.0.1', ${service.port}, '127.0.0.1');
      ${service6 ? `await tcp('a host service on ::1', ${service6.port}, '::1');` : ''}
    })();`));
    expectContained(a, ['ok'], service6 ? 2 : 1);
    expect(service.connections()).toBe(0);
    expect(service6?.connections() ?? 0).toBe(0);
  });

  it('UDP datagrams to 127.0.0.1 do not arrive (seccomp refuses UDP sockets at all)', async () => {
    const a = await run(h, program(`
      const s = require('node:dgram').createSocket('udp4');
      s.on('error', (e) => console.log('contained: udp socket (' + e.code + ')'));
      let left = 5;
      for (let i = 0; i < 5; i += 1) s.send('hostile ' + i, ${udp.port}, '127.0.0.1', (e) => { console.log(e ? 'send: ' + e.code : 'sent'); if (--left === 0) s.close(); });
    `));
    expectContained(a, ['ok']);
    expect(a.body.stdout).toMatch(/contained: udp socket \(EACCES\)|send: EACCES/);
    await sleep(300);
    expect(udp.received()).toBe(0);
  });

  it("dns.lookup('localhost') gives loopback or nothing", async () => {
    const a = await run(h, program(`
      require('node:dns').lookup('localhost', { family: 4, all: true }, (e, addresses) => console.log(e ? 'lookup: ' + e.code : 'lookup: ' + addresses.map((x) => x.address).join(' ')));
    `));
    expectContained(a, ['ok']);
    const addresses = /^lookup: (.*)$/m.exec(a.body.stdout)?.[1] ?? '';
    for (const address of addresses.split(' ').filter((x) => /^\d/.test(x))) expect(address).toMatch(/^127\./);
  });

  it('a resolver pointed at 127.0.0.1:<a test socket> sends it no query', async () => {
    const a = await run(h, program(`(async () => {
      const r = new (require('node:dns').promises.Resolver)({ timeout: 300, tries: 1 });
      r.setServers(['127.0.0.1:${dns.port}']);
      await attemptAsync('resolve4 through 127.0.0.1:${dns.port}', () => r.resolve4('corral-hostile.invalid'), 3000);
      await attemptAsync('resolveTxt through 127.0.0.1:${dns.port}', () => r.resolveTxt('corral-hostile.invalid'), 3000);
    })();`));
    expectContained(a, ['ok'], 2);
    await sleep(200);
    expect(dns.received()).toBe(0);
  });

  it('the stack is healthy afterwards', async () => {
    await expectHealthy(h);
  });
});
