import { freePort, waitFor } from '@corral/devkit';
import { kernelTestsUnavailable, run, TestNet } from './testnet';

/**
 * The tap backend, for real, inside a network namespace of the test's own: netprov runs there
 * with `ip netns exec`, so every tap device and 172.16.x address exists only inside it.
 */
const skip = kernelTestsUnavailable();
const maybe = skip ? describe.skip : describe;
if (skip) console.warn(`tap backend tests skipped: ${skip}`);

interface Addr {
  ifname: string;
  flags: string[];
  addr_info: { family: string; local: string; prefixlen: number }[];
}

let net: TestNet;
const nets: TestNet[] = [];
function fresh(label: string): TestNet {
  const n = new TestNet(label);
  nets.push(n);
  return n;
}

/** tap name → its IPv4 addresses ("a.b.c.d/len"), for netprov's taps only. */
function taps(n: TestNet): Map<string, string[]> {
  const result = new Map<string, string[]>();
  for (const a of n.json<Addr>('addr', 'show')) {
    if (!a.ifname.startsWith(`${n.prefix}t`)) continue;
    result.set(a.ifname, a.addr_info.filter((i) => i.family === 'inet').map((i) => `${i.local}/${i.prefixlen}`));
  }
  return result;
}

function up(n: TestNet, count: number, ...more: string[]) {
  return n.netprov(['up', '--backend', 'tap', '--count', String(count), '--prefix', n.prefix, '--no-redis', ...more]);
}

afterAll(async () => {
  for (const n of nets) await n.destroy();
});

maybe('tap backend (inside a namespace of the test)', () => {
  beforeAll(() => {
    net = fresh('tap');
  });

  it('makes 1000 tap slots with the first addresses of the range, in order, up; a second up changes nothing', async () => {
    const first = await up(net, 1000);
    expect(first).toMatchObject({ code: 0, out: expect.stringContaining('created 1000, repaired 0, removed 0') });
    expect(first.err).toMatch(/250\/1000 slots set up/); // progress on stderr
    const found = taps(net);
    expect(found.size).toBe(1000);
    expect(found.get(`${net.prefix}t0`)).toEqual(['172.16.0.1/32']);
    expect(found.get(`${net.prefix}t255`)).toEqual(['172.16.1.0/32']);
    expect(found.get(`${net.prefix}t999`)).toEqual(['172.16.3.232/32']);
    const details = net.json<{ ifname: string; flags: string[]; linkinfo?: { info_data?: { type?: string } } }>('-details', 'link', 'show');
    const ours = details.filter((l) => l.ifname.startsWith(net.prefix));
    expect(ours.every((l) => l.flags.includes('UP') && l.linkinfo?.info_data?.type === 'tap')).toBe(true);

    const again = await up(net, 1000);
    expect(again).toMatchObject({ code: 0, out: expect.stringMatching(/: no changes\n$/) });
  });

  it('reconciles 1000 → 10 → 20, and ls shows each slot', async () => {
    expect((await up(net, 10)).out).toContain('created 0, repaired 0, removed 990');
    expect([...taps(net).keys()].sort()).toEqual(Array.from({ length: 10 }, (_, i) => `${net.prefix}t${i}`).sort());
    expect((await up(net, 20)).out).toContain('created 10, repaired 0, removed 0');
    expect(taps(net).get(`${net.prefix}t19`)).toEqual(['172.16.0.20/32']);
    const ls = await net.netprov(['ls', '--backend', 'tap', '--prefix', net.prefix, '--no-redis', '--json']);
    const rows = JSON.parse(ls.out) as { ip: string; device: string; link: string }[];
    expect(rows).toHaveLength(20);
    expect(rows.every((r) => r.link === 'ok')).toBe(true);
    expect(rows[19]).toMatchObject({ ip: '172.16.0.20', device: `${net.prefix}t19` });
  });

  it('a crash half-way (netprov and its ip killed) leaves a state the next up repairs', async () => {
    const killed = await net.netprov(['up', '--backend', 'tap', '--count', '900', '--cidr', '10.45.0.0/16', '--prefix', net.prefix, '--no-redis'], {
      killWhen: /250\/\d+ slots set up/,
    });
    expect(killed.code).not.toBe(0);
    const half = taps(net).size;
    expect(half).toBeGreaterThanOrEqual(250);
    expect(half).toBeLessThan(900); // really half-way
    const repaired = await up(net, 20);
    expect(repaired).toMatchObject({ code: 0, out: expect.stringContaining(`removed ${half - 20}`) });
    const found = taps(net);
    expect(found.size).toBe(20);
    expect([...found.entries()].every(([name, a]) => a.length === 1 && a[0] === `172.16.0.${Number(name.slice(net.prefix.length + 1)) + 1}/32`)).toBe(true);
    expect((await up(net, 20)).out).toMatch(/no changes/);
  });

  it('repairs half-made slots: no address, a wrong address, down, a stray beyond the count', async () => {
    const p = net.prefix;
    net.ip('addr', 'flush', 'dev', `${p}t1`);
    net.ip('addr', 'add', '172.16.9.9/32', 'dev', `${p}t2`);
    net.ip('link', 'set', 'dev', `${p}t3`, 'down');
    net.ip('tuntap', 'add', 'dev', `${p}t40`, 'mode', 'tap'); // a crash right after creating one
    const ls = JSON.parse((await net.netprov(['ls', '--backend', 'tap', '--prefix', p, '--no-redis', '--json'])).out) as { device: string; link: string }[];
    expect(ls.filter((r) => r.link !== 'ok').map((r) => [r.device, r.link])).toEqual([
      [`${p}t1`, 'no-address'],
      [`${p}t2`, 'wrong-address'],
      [`${p}t3`, 'down'],
      [`${p}t40`, 'no-address'],
    ]);
    expect((await up(net, 20)).out).toContain('created 0, repaired 3, removed 1');
    const found = taps(net);
    expect(found.size).toBe(20);
    expect([found.get(`${p}t1`), found.get(`${p}t2`)]).toEqual([['172.16.0.2/32'], ['172.16.0.3/32']]);
    expect((await up(net, 20)).out).toMatch(/no changes/);
  });

  it('--dry-run prints the plan and changes nothing', async () => {
    const before = net.devices();
    const dry = await up(net, 22, '--dry-run');
    expect(dry.code).toBe(0);
    expect(dry.out).toContain('tap: create 2, repair 0, remove 0 slots');
    expect(dry.out).toContain(`ip tuntap add dev ${net.prefix}t21 mode tap`);
    expect(net.devices()).toEqual(before);
  });

  it('down removes exactly what netprov made', async () => {
    net.ip('link', 'add', 'other0', 'type', 'bridge');
    net.ip('link', 'add', `${net.prefix}x1`, 'type', 'bridge'); // its prefix, not its name pattern
    const down = await net.netprov(['down', '--backend', 'tap', '--prefix', net.prefix, '--no-redis']);
    expect(down).toMatchObject({ code: 0, out: expect.stringContaining('removed 20') });
    expect(net.devices()).toEqual([`${net.prefix}x1`, 'other0'].sort());
    expect((await net.netprov(['down', '--backend', 'tap', '--prefix', net.prefix, '--no-redis'])).out).toMatch(/no changes/);
  });
});

maybe('tap backend rejects bad input with exit 2 and makes nothing', () => {
  let bad: TestNet;
  beforeAll(() => {
    bad = fresh('bad');
    bad.ip('link', 'add', `${bad.prefix}t2`, 'type', 'bridge'); // a name clash netprov did not make
    bad.ip('link', 'add', 'foreign0', 'type', 'bridge');
    bad.ip('addr', 'add', '10.9.0.3/32', 'dev', 'foreign0'); // an address clash
  });

  it.each([
    [['--count', '3', '--cidr', 'banana'], /--cidr "banana" is not an IPv4 range in CIDR notation/],
    [['--count', '3', '--cidr', '172.16.0.0/33'], /not an IPv4 range/],
    [['--count', '3', '--cidr', '172.16.0.1/24'], /host bits set; did you mean 172\.16\.0\.0\/24/],
    [['--count', '3', '--cidr', '8.8.8.0/24'], /not inside a private range/],
    [['--count', '3', '--cidr', '172.32.0.0/16'], /not inside a private range/],
    [['--count', '7', '--cidr', '192.168.7.0/29'], /--count 7 does not fit: --cidr 192\.168\.7\.0\/29 has 6 usable addresses/],
    [['--count', '2000000'], /does not fit: --cidr 172\.16\.0\.0\/12 has 1048574/],
    [['--count', '3'], new RegExp('an interface named n[0-9a-f]{4}-t2 \\(bridge\\) exists and netprov did not make it')],
    [['--count', '3', '--cidr', '10.9.0.0/24', '--prefix', 'zq-'], /10\.9\.0\.3 is already on foreign0, which netprov did not make/],
    [['--count', '3', '--prefix', 'Bad_'], /--prefix "Bad_" must be/],
    [['--count', '3', '--base', '127.0.0.9'], /--base applies to the loopback backend only/],
  ])('%j', async (args, message) => {
    const before = bad.devices();
    const result = await bad.netprov(['up', '--backend', 'tap', '--no-redis', '--prefix', bad.prefix, ...args]);
    expect(result.code).toBe(2);
    expect(result.err).toMatch(message);
    expect(bad.devices()).toEqual(before);
  });

  it('CORRAL_CIDR is checked like --cidr', async () => {
    const result = await bad.netprov(['up', '--backend', 'tap', '--no-redis', '--count', '2', '--prefix', 'zr-'], { env: { CORRAL_CIDR: '100.64.0.0/10' } });
    expect(result).toMatchObject({ code: 2, err: expect.stringMatching(/CORRAL_CIDR 100\.64\.0\.0\/10 is not inside a private range/) });
  });

  it('not root: says so, exit 2, nothing made', async () => {
    const before = bad.devices();
    const result = await bad.netprov(['up', '--backend', 'tap', '--no-redis', '--count', '2', '--prefix', 'zs-'], {
      stranger: true,
    });
    expect(result).toMatchObject({ code: 2, err: expect.stringMatching(/run netprov as root/) });
    expect(bad.devices()).toEqual(before);
  });
});

maybe('tap backend publishes the inventory (Redis inside the namespace)', () => {
  let pub: TestNet;
  let env: Record<string, string>;
  beforeAll(async () => {
    pub = fresh('pub');
    const port = await freePort();
    pub.start('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'warning']);
    env = { REDIS_URL: `redis://127.0.0.1:${port}`, CORRAL_REDIS_PREFIX: 'nptest', CORRAL_HOST_ID: 'tap1', CORRAL_NETPROV_PREFIX: pub.prefix };
    await waitFor('redis-server inside the namespace', () => run('ip', ['netns', 'exec', pub.name, 'redis-cli', '-p', String(port), 'ping']).out.includes('PONG'), { timeoutMs: 5000 });
  });

  it('up publishes exactly the slots it made; ls joins kernel and registry; down unpublishes first', async () => {
    const upped = await pub.netprov(['up', '--backend', 'tap', '--count', '3', '--cidr', '10.20.0.0/24'], { env });
    expect(upped).toMatchObject({ code: 0, out: expect.stringContaining('created 3, repaired 0, removed 0 in') });
    expect(upped.out).toContain('registry: added 3, removed 0, changed 0');
    const ls = JSON.parse((await pub.netprov(['ls', '--backend', 'tap', '--json'], { env })).out) as { id: string; ip: string; link: string; state: string }[];
    expect(ls.map((r) => [r.id, r.ip, r.link, r.state])).toEqual([
      ['tap1:0', '10.20.0.1', 'ok', 'dead'],
      ['tap1:1', '10.20.0.2', 'ok', 'dead'],
      ['tap1:2', '10.20.0.3', 'ok', 'dead'],
    ]);
    expect((await pub.netprov(['up', '--backend', 'tap', '--count', '3', '--cidr', '10.20.0.0/24'], { env })).out).toMatch(/: no changes\n$/);
    const down = await pub.netprov(['down', '--backend', 'tap'], { env });
    expect(down.out).toContain('registry: removed 3');
    expect((await pub.netprov(['ls', '--backend', 'tap'], { env })).out).toContain('has no tap slots');
  });

  it('an unreachable Redis: exit 1 and nothing made', async () => {
    const result = await pub.netprov(['up', '--backend', 'tap', '--count', '2'], { env: { ...env, REDIS_URL: 'redis://127.0.0.1:1' } });
    expect(result).toMatchObject({ code: 1, err: expect.stringMatching(/Cannot reach Redis at redis:\/\/127\.0\.0\.1:1/) });
    expect(pub.devices()).toEqual([]);
  });
});
