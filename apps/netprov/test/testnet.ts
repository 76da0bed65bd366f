import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative } from 'node:path';

/**
 * Network namespaces made by a test, and nothing else: every device, address and process a
 * kernel-backend test makes lives inside one of these (or in a slot namespace that netprov makes
 * with the test's own prefix), and `destroy` removes all of it, also after a failure.
 */
export const MAIN = join(__dirname, '..', 'dist', 'main.js');
const REPO = join(__dirname, '..', '..', '..');
const NETNS_DIR = '/run/netns';

export interface Run {
  code: number;
  out: string;
  err: string;
}

/** Why kernel tests cannot run here, or null when they can. */
export function kernelTestsUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'not root';
  if (spawnSync('ip', ['-V']).status !== 0) return 'no iproute2';
  if (!existsSync(MAIN)) return `${MAIN} is not built (npx tsc -b apps/netprov/tsconfig.lib.json)`;
  return null;
}

export function run(command: string, args: readonly string[], input?: string): Run {
  const r = spawnSync(command, args, { encoding: 'utf8', ...(input !== undefined ? { input } : {}) });
  return { code: r.status ?? 1, out: r.stdout ?? '', err: r.stderr ?? '' };
}

function must(command: string, args: readonly string[]): string {
  const r = run(command, args);
  if (r.code !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${r.err.trim()}`);
  return r.out;
}

export class TestNet {
  /** The test's own namespace: netprov runs inside it, as on a host. */
  readonly name: string;
  /** netprov's --prefix for this test: slot namespaces are named `<prefix>n<i>` in /run/netns. */
  readonly prefix: string;
  private readonly children = new Set<ChildProcess>();

  constructor(label: string) {
    const tag = randomBytes(2).toString('hex');
    this.name = `crltest-${label}-${tag}`;
    this.prefix = `n${tag}-`;
    must('ip', ['netns', 'add', this.name]);
    must('ip', ['-n', this.name, 'link', 'set', 'lo', 'up']);
  }

  /** `ip -n <ns> …` */
  ip(...args: string[]): string {
    return must('ip', ['-n', this.name, ...args]);
  }

  json<T>(...args: string[]): T[] {
    const out = this.ip('-json', ...args).trim();
    return out ? (JSON.parse(out) as T[]) : [];
  }

  /** Every device in the namespace but lo, by name. */
  devices(): string[] {
    return this.json<{ ifname: string }>('link', 'show').map((l) => l.ifname).filter((n) => n !== 'lo').sort();
  }

  /** Slot namespaces of this test's netprov that exist now. */
  slotNamespaces(): string[] {
    return existsSync(NETNS_DIR) ? readdirSync(NETNS_DIR).filter((n) => n.startsWith(this.prefix)).sort() : [];
  }

  /**
   * Runs netprov inside the namespace. `via` "exec" is `ip netns exec` (a mount namespace of its
   * own, as an operator would type it); "nsenter" enters the network namespace alone, which the
   * netns backend needs so that the namespaces it names in /run/netns outlive it.
   */
  netprov(
    args: readonly string[],
    options: { env?: Record<string, string>; via?: 'exec' | 'nsenter'; stranger?: boolean; killWhen?: RegExp } = {},
  ): Promise<Run> {
    const enter = options.via === 'nsenter' ? ['nsenter', `--net=${NETNS_DIR}/${this.name}`, '--'] : ['ip', 'netns', 'exec', this.name];
    const argv = [...enter, ...(options.stranger ? this.asStranger() : [process.execPath, MAIN]), ...args];
    // A process group of its own, so that `killWhen` can crash netprov and its ip at once.
    const child = spawn(argv[0] as string, argv.slice(1), { env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      if (options.killWhen?.test(err) && child.pid) process.kill(-child.pid, 'SIGKILL');
    });
    return new Promise((resolve) => child.once('exit', (code) => resolve({ code: code ?? 1, out, err })));
  }

  /**
   * netprov as an ordinary user (nobody) would run it. The checkout may lie under a 0700 home
   * that nobody cannot traverse, so it is bound onto a folder nobody can reach, inside the
   * private mount namespace that `ip netns exec` gives its command.
   */
  private asStranger(): string[] {
    const view = mkdtempSync(join(tmpdir(), 'corral-view-'));
    chmodSync(view, 0o755);
    this.views.add(view);
    const inRepo = (path: string): string => {
      const rel = relative(REPO, path);
      return rel.startsWith('..') || isAbsolute(rel) ? path : join(view, rel);
    };
    const script = 'mount --bind "$1" "$2" && cd / && shift 2 && exec setpriv --reuid=65534 --regid=65534 --clear-groups "$@"';
    return ['sh', '-c', script, 'stranger', REPO, view, inRepo(process.execPath), inRepo(MAIN)];
  }

  private readonly views = new Set<string>();

  /** Starts a long-running process inside the namespace (killed by `destroy`). */
  start(command: string, args: readonly string[]): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', this.name, command, ...args], { stdio: 'ignore' });
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    return child;
  }

  /** Kills what it started, deletes netprov's slot namespaces (by prefix) and its own namespace. */
  async destroy(): Promise<void> {
    await Promise.all(
      [...this.children].map((c) => {
        const gone = new Promise((resolve) => c.once('exit', resolve));
        c.kill('SIGKILL');
        return gone;
      }),
    );
    for (const ns of this.slotNamespaces()) run('ip', ['netns', 'del', ns]);
    run('ip', ['netns', 'del', this.name]);
    // rmdir, never a recursive removal: were the bind mount still there, it would be the checkout.
    for (const view of this.views) rmdirSync(view);
  }
}
