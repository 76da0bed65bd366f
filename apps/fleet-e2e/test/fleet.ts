import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CorralClient, type FetchLike } from '@corral/client';
import { hostCgroupFolders, serviceEntry, startProcess, waitFor, type ServiceName, type ServiceProcess } from '@corral/devkit';

/**
 * A small fleet made of network namespaces, and nothing outside them: a "lan" namespace with a
 * bridge, and hosts (each a namespace with a veth to the bridge and a 10.99.0.x address). Every
 * address, route and packet of the test exists only inside these namespaces; the test process
 * talks to the router through a Unix socket served by a forwarder inside the router's host.
 */
export interface Host {
  ns: string;
  ip: string;
}

export interface Service extends ServiceProcess {
  host: string;
  /** Parsed JSON log lines so far. */
  logs: Record<string, unknown>[];
}

export function kernelTestsUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'not root';
  for (const [cmd, arg] of [['ip', '-V'], ['redis-server', '--version']] as const) {
    if (spawnSync(cmd, [arg]).status !== 0) return `${cmd} is not installed`;
  }
  return null;
}

function sh(args: readonly string[]): string {
  const r = spawnSync(args[0] as string, args.slice(1), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

/** A fetch for @corral/client that sends every request over a Unix socket; the URL's host is not used. */
function socketFetch(socketPath: string): FetchLike {
  return (url, init) =>
    new Promise((resolve, reject) => {
      const { pathname, search } = new URL(url);
      const req = request({ socketPath, method: init.method, path: `${pathname}${search}`, headers: init.headers, signal: init.signal }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('error', reject);
        res.on('end', () => {
          const header = (name: string): string | null => {
            const value = res.headers[name.toLowerCase()];
            return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
          };
          resolve({ status: res.statusCode ?? 0, headers: { get: header }, text: async () => text });
        });
      });
      req.on('error', reject);
      req.end(init.body);
    });
}

export class Fleet {
  readonly tag = randomBytes(2).toString('hex');
  readonly lan = `cfl-${this.tag}-lan`;
  readonly hosts = new Map<string, Host>();
  readonly services: Service[] = [];
  readonly dir = mkdtempSync(join(tmpdir(), 'corral-fleet-'));
  readonly socket = join(this.dir, 'router.sock');
  /** The router, through the forwarder (see `forward`). */
  readonly client = new CorralClient({ baseUrl: 'http://127.0.0.1', fetch: socketFetch(this.socket) });

  constructor() {
    sh(['ip', 'netns', 'add', this.lan]);
    sh(['ip', '-n', this.lan, 'link', 'add', 'br0', 'type', 'bridge']);
    sh(['ip', '-n', this.lan, 'link', 'set', 'br0', 'up']);
  }

  /** A host on the bridge with the address 10.99.0.<n>/24. */
  addHost(name: string, n: number): Host {
    const ns = `cfl-${this.tag}-${name}`;
    const host = { ns, ip: `10.99.0.${n}` };
    this.hosts.set(name, host);
    sh(['ip', 'netns', 'add', ns]);
    sh(['ip', '-n', this.lan, 'link', 'add', `p-${name}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
    sh(['ip', '-n', this.lan, 'link', 'set', `p-${name}`, 'master', 'br0', 'up']);
    sh(['ip', '-n', ns, 'addr', 'add', `${host.ip}/24`, 'dev', 'eth0']);
    sh(['ip', '-n', ns, 'link', 'set', 'eth0', 'up']);
    sh(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    return host;
  }

  /** `ip -n <host> route add <cidr> via <gateway host's address>`. */
  route(from: string, cidr: string, via: string): void {
    sh(['ip', '-n', this.host(from).ns, 'route', 'add', cidr, 'via', this.host(via).ip]);
  }

  host(name: string): Host {
    const host = this.hosts.get(name);
    if (!host) throw new Error(`no host ${name}`);
    return host;
  }

  /**
   * A command line that runs inside a host's network namespace and nothing else: nsenter keeps
   * the host's mount namespace (`ip netns exec` would remount /sys, hiding the cgroups, and
   * make /run/netns a slave mount, where netprov cannot make namespaces).
   */
  private inside(host: string, args: readonly string[]): [string, string[]] {
    return ['nsenter', [`--net=/run/netns/${this.host(host).ns}`, '--', ...args]];
  }

  /** Runs a command inside a host to its end. */
  exec(host: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): { code: number; out: string } {
    const [command, argv] = this.inside(host, args);
    const r = spawnSync(command, argv, { encoding: 'utf8', env: { ...process.env, ...env } });
    return { code: r.status ?? 1, out: `${r.stdout}${r.stderr}` };
  }

  /** Starts a long-running process inside a host (its own process group; stopped by `destroy`). */
  start(name: string, host: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): Service {
    const [command, argv] = this.inside(host, args);
    const logs: Record<string, unknown>[] = [];
    const process_ = startProcess(name, [command, ...argv], { ...process.env, ...env }, (line) => {
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        logs.push({ msg: line });
      }
    });
    const service: Service = Object.assign(process_, { host, logs });
    this.services.push(service);
    return service;
  }

  /** A corral service (its built dist/main.js) inside a host. */
  service(name: ServiceName, host: string, env: NodeJS.ProcessEnv): Service {
    return this.start(`${name}@${host}`, host, [process.execPath, serviceEntry(name)], env);
  }

  /** Serves this.socket from inside `host`, forwarding to 127.0.0.1:port there. */
  forward(host: string, port: number): Service {
    const code =
      "const net=require('net');const [sock,port]=process.argv.slice(1);" +
      "net.createServer(c=>{const u=net.connect(+port,'127.0.0.1');c.pipe(u).pipe(c);u.on('error',()=>c.destroy());c.on('error',()=>u.destroy())})" +
      ".listen(sock,()=>console.log('ready'))";
    return this.start('forwarder', host, [process.execPath, '-e', code, this.socket, String(port)]);
  }

  /**
   * Stops every process (SIGTERM, then SIGKILL of its group) and deletes every namespace; then
   * checks that the workers of `hostIds`, however they ended, left no cgroup folder behind.
   */
  async destroy(hostIds: readonly string[] = []): Promise<void> {
    await Promise.all(this.services.map((s) => s.stop(5000)));
    for (const host of this.hosts.values()) spawnSync('ip', ['netns', 'del', host.ns]);
    spawnSync('ip', ['netns', 'del', this.lan]);
    rmSync(this.dir, { recursive: true, force: true });
    const left = (): string[] => hostIds.flatMap(hostCgroupFolders);
    await waitFor('the workers’ cgroup folders to be gone', () => left().length === 0, { timeoutMs: 5000 }).catch(() => {
      throw new Error(`cgroup folders left behind: ${left().join(', ')}`);
    });
  }
}
