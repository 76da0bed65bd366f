import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { which } from '../src/lib/firewall';
import { kernelTestsUnavailable, run, TestNet } from './testnet';

/**
 * The netns backend, for real: netprov runs inside a namespace of the test's own (entered with
 * nsenter, see TestNet.netprov), so each slot namespace is joined by its veth to that namespace
 * alone, never to the host's. Slot namespaces carry the test's own prefix and are deleted after.
 */
const skip = kernelTestsUnavailable() ?? (which('nft') ? null : 'nft is not installed (apt-get install -y nftables)');
const maybe = skip ? describe.skip : describe;
if (skip) console.warn(`netns backend tests skipped: ${skip}`);

let net: TestNet;
const nets: TestNet[] = [];
afterAll(async () => {
  for (const n of nets) await n.destroy();
});

function up(count: number, ...more: string[]) {
  return net.netprov(['up', '--backend', 'netns', '--count', String(count), '--prefix', net.prefix, '--no-redis', '--cidr', '10.77.0.0/24', ...more], { via: 'nsenter' });
}

/** Tries a TCP connection from inside `netns` to ip:port; prints what happened. */
function connectFrom(netns: string, ip: string, port: number): string {
  const code = `const s=require('net').connect(${port},'${ip}');s.setTimeout(700,()=>{console.log('timeout');process.exit()});` +
    `s.on('connect',()=>{console.log('connected');process.exit()});s.on('error',(e)=>{console.log(e.code);process.exit()})`;
  return run('ip', ['netns', 'exec', netns, process.execPath, '-e', code]).out.trim();
}

maybe('netns backend (inside a namespace of the test)', () => {
  beforeAll(() => {
    net = new TestNet('ns');
    nets.push(net);
  });

  it('makes a namespace per slot, joined by a veth whose host end carries the slot address, with the policy in', async () => {
    const result = await up(3);
    expect(result).toMatchObject({ code: 0, out: expect.stringContaining('created 3, repaired 0, removed 0') });
    expect(net.slotNamespaces()).toEqual([0, 1, 2].map((i) => `${net.prefix}n${i}`));
    const addrs = net.json<{ ifname: string; addr_info: { local: string; prefixlen: number }[] }>('addr', 'show');
    expect(addrs.filter((a) => a.ifname.startsWith(net.prefix)).map((a) => [a.ifname, a.addr_info.map((i) => `${i.local}/${i.prefixlen}`)])).toEqual([
      [`${net.prefix}v0`, ['10.77.0.1/32']],
      [`${net.prefix}v1`, ['10.77.0.2/32']],
      [`${net.prefix}v2`, ['10.77.0.3/32']],
    ]);
    // Inside: the peer, no address, and the default-deny tables.
    const inner = run('ip', ['-n', `${net.prefix}n1`, '-json', 'addr', 'show']).out;
    expect((JSON.parse(inner) as { ifname: string }[]).map((l) => l.ifname).sort()).toEqual(['eth0', 'lo']);
    const policy = run('ip', ['netns', 'exec', `${net.prefix}n1`, 'nft', 'list', 'ruleset']).out;
    expect(policy).toMatch(/table inet corral_slot[\s\S]*hook input priority filter; policy drop;[\s\S]*hook output priority filter; policy drop;/);
    expect(policy).toContain('table arp corral_slot');
    const guard = run('ip', ['netns', 'exec', net.name, 'nft', 'list', 'table', 'inet', `${net.prefix.slice(0, -1)}_netprov_guard`]);
    expect(guard.out).toContain(`iifname "${net.prefix}v*" drop`);
    expect((await up(3)).out).toMatch(/: no changes\n$/);
  });

  it('nothing inside reaches the host side, even with eth0 up and routed: the policy alone and the guard alone each stop it', async () => {
    const slot = `${net.prefix}n0`;
    const guard = ['netns', 'exec', net.name, 'nft', 'delete', 'table', 'inet', `${net.prefix.slice(0, -1)}_netprov_guard`];
    const listener = net.start(process.execPath, ['-e', "require('net').createServer(c=>c.end()).listen(7071,'10.77.0.1')"]);
    try {
      // Give the inside a working link, as code holding CAP_NET_ADMIN inside could.
      run('ip', ['-n', slot, 'link', 'set', 'eth0', 'up']);
      run('ip', ['-n', slot, 'addr', 'add', '169.254.1.2/32', 'peer', '10.77.0.1', 'dev', 'eth0']);
      run('ip', ['-n', net.name, 'route', 'add', '169.254.1.2/32', 'dev', `${net.prefix}v0`]);
      await new Promise((r) => setTimeout(r, 300));
      expect(['EPERM', 'timeout']).toContain(connectFrom(slot, '10.77.0.1', 7071)); // both layers
      expect(run('ip', guard).code).toBe(0);
      expect(['EPERM', 'timeout']).toContain(connectFrom(slot, '10.77.0.1', 7071)); // the policy inside alone
      expect((await up(3)).code).toBe(0); // puts the guard back
      run('ip', ['netns', 'exec', slot, 'nft', 'flush', 'ruleset']);
      expect(connectFrom(slot, '10.77.0.1', 7071)).toBe('timeout'); // the host-side guard alone
      expect(run('ip', guard).code).toBe(0);
      expect(connectFrom(slot, '10.77.0.1', 7071)).toBe('connected'); // so the checks above were real
    } finally {
      listener.kill('SIGKILL');
    }
    // A flushed policy is invisible from the host (see the README); deleting the namespace is not.
    run('ip', ['netns', 'del', slot]);
    expect((await up(3)).out).toContain('created 1, repaired 0, removed 0');
    expect(run('ip', ['netns', 'exec', slot, 'nft', 'list', 'ruleset']).out).toContain('table inet corral_slot');
  });

  it('repairs what is half-made or tampered with; reconciles 3 → 5 → 2', async () => {
    run('ip', ['netns', 'del', `${net.prefix}n2`]); // its veth goes with it
    run('ip', ['-n', net.name, 'link', 'set', 'dev', `${net.prefix}v1`, 'alias', 'x']); // a crash before "ready"
    const ls = JSON.parse((await net.netprov(['ls', '--backend', 'netns', '--prefix', net.prefix, '--no-redis', '--cidr', '10.77.0.0/24', '--json'], { via: 'nsenter' })).out) as { link: string }[];
    expect(ls.map((r) => r.link)).toEqual(['ok', 'not-ready']); // slot 2 is gone altogether
    const repaired = await up(5);
    expect(repaired).toMatchObject({ code: 0, out: expect.stringContaining('created 3, repaired 1, removed 0') }); // n2, n3, n4; n1
    const policy = run('ip', ['netns', 'exec', `${net.prefix}n1`, 'nft', 'list', 'ruleset']).out;
    expect(policy).toContain('table inet corral_slot');
    expect((await up(5)).out).toMatch(/no changes/);
    expect((await up(2)).out).toContain('created 0, repaired 0, removed 3');
    expect(net.slotNamespaces()).toEqual([`${net.prefix}n0`, `${net.prefix}n1`]);
  });

  it('refuses to run under "ip netns exec" (its namespaces would vanish with it), and without nft or iptables', async () => {
    const underExec = await net.netprov(['up', '--backend', 'netns', '--count', '4', '--prefix', net.prefix, '--no-redis', '--cidr', '10.77.0.0/24']);
    expect(underExec).toMatchObject({ code: 2, err: expect.stringMatching(/mount namespace of its own/) });
    const bin = mkdtempSync(join(tmpdir(), 'netprov-path-'));
    try {
      for (const tool of ['ip', 'nsenter']) symlinkSync(which(tool) as string, join(bin, tool));
      const bare = await net.netprov(['up', '--backend', 'netns', '--count', '4', '--prefix', net.prefix, '--no-redis', '--cidr', '10.77.0.0/24'], { via: 'nsenter', env: { PATH: bin } });
      expect(bare).toMatchObject({ code: 2, err: expect.stringMatching(/needs nftables \("nft"\) or iptables.*netprov installs neither/) });
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
    expect(net.slotNamespaces()).toHaveLength(2);
  });

  it('down removes every namespace, veth and the guard it made, and nothing else', async () => {
    net.ip('link', 'add', 'keep0', 'type', 'bridge');
    const down = await net.netprov(['down', '--backend', 'netns', '--prefix', net.prefix, '--no-redis'], { via: 'nsenter' });
    expect(down).toMatchObject({ code: 0, out: expect.stringContaining('removed 2') });
    expect(net.slotNamespaces()).toEqual([]);
    expect(net.devices()).toEqual(['keep0']);
    expect(run('ip', ['netns', 'exec', net.name, 'nft', 'list', 'ruleset']).out.trim()).toBe('');
  });
});

const noIptables = kernelTestsUnavailable() ?? (['iptables', 'ip6tables', 'iptables-restore', 'ip6tables-restore'].every((t) => which(t)) ? null : 'iptables is not installed');
(noIptables ? describe.skip : describe)('netns backend with iptables (no nft on PATH)', () => {
  let ipt: TestNet;
  let bin: string;
  beforeAll(() => {
    ipt = new TestNet('ipt');
    nets.push(ipt);
    bin = mkdtempSync(join(tmpdir(), 'netprov-path-'));
    for (const tool of ['ip', 'nsenter', 'iptables', 'ip6tables', 'iptables-restore', 'ip6tables-restore']) symlinkSync(which(tool) as string, join(bin, tool));
  });
  afterAll(() => rmSync(bin, { recursive: true, force: true }));

  const netprov = (...args: string[]) =>
    ipt.netprov([...args, '--backend', 'netns', '--prefix', ipt.prefix, '--no-redis', '--cidr', '10.78.0.0/24'], { via: 'nsenter', env: { PATH: bin } });

  it('loads the same default-deny policy with iptables and ip6tables, guards the host, and removes the guard on down', async () => {
    expect(await netprov('up', '--count', '2')).toMatchObject({ code: 0, out: expect.stringContaining('created 2') });
    for (const tool of ['iptables', 'ip6tables']) {
      const inside = run('ip', ['netns', 'exec', `${ipt.prefix}n1`, tool, '-S']).out;
      expect(inside).toContain('-P INPUT DROP');
      expect(inside).toContain('-P FORWARD DROP');
      expect(inside).toContain('-P OUTPUT DROP');
      expect(inside).toContain('-A OUTPUT -o lo -j ACCEPT');
      const host = run('ip', ['netns', 'exec', ipt.name, tool, '-S']).out;
      const chain = `${ipt.prefix.slice(0, -1).toUpperCase()}-NETPROV`;
      expect(host).toContain(`-A INPUT -j ${chain}-IN`);
      expect(host).toContain(`-A ${chain}-IN -i ${ipt.prefix}v+ -j DROP`);
      expect(host).toContain(`-A ${chain}-FWD -o ${ipt.prefix}v+ -j DROP`);
    }
    expect((await netprov('up', '--count', '2')).out).toMatch(/no changes/);
    expect(run('ip', ['netns', 'exec', ipt.name, 'iptables', '-S']).out.match(/-A INPUT -j /g)).toHaveLength(1); // not twice
    expect((await netprov('down')).code).toBe(0);
    expect(run('ip', ['netns', 'exec', ipt.name, 'iptables', '-S']).out).not.toContain('NETPROV');
    expect(ipt.slotNamespaces()).toEqual([]);
  });
});
