import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { serviceEntry } from '@corral/devkit';
import { parseCpuTotals } from './procfs';
import { median } from './stats';

/** Busy share of all cores below which the machine counts as quiet before a timed command. */
export const QUIET_SHARE = 0.1;

/**
 * Waits until the cores are quiet over a 200 ms window (at most `maxMs`): the kernel tears
 * removed devices down after `ip` has returned, and that work would be charged to whichever
 * command runs next. Returns how long it waited.
 */
export async function settle(maxMs = 5000): Promise<number> {
  const started = Date.now();
  for (;;) {
    const before = parseCpuTotals(readFileSync('/proc/stat', 'latin1'));
    await sleep(200);
    const after = parseCpuTotals(readFileSync('/proc/stat', 'latin1'));
    const busy = (after.busyTicks - before.busyTicks) / Math.max(1, after.totalTicks - before.totalTicks);
    if (busy < QUIET_SHARE || Date.now() - started >= maxMs) return Date.now() - started;
  }
}

/**
 * netprov's tap backend against the naive way, side by side in the same run: provisioning and
 * removing `count` tap slots (a tap device, its /32 address, up) with netprov (one `ip -batch`,
 * a group delete) and with one `ip` command per step, spawned one after another.
 *
 * Network safety: everything happens inside a network namespace this function creates and
 * deletes (also on failure); no packet is sent at all. Needs root and iproute2, and netprov built.
 */
export interface NetprovBenchOptions {
  /** Slots per round (default 1000). */
  count?: number;
  /** Rounds; medians are reported (default 3). */
  rounds?: number;
  /** One line per step, for the harness's progress output. */
  progress?: (line: string) => void;
}

export interface NetprovBenchSamples {
  /** Wall time of the whole command (`ip netns exec … node netprov up|down`), Node start-up included. */
  upMs: number[];
  downMs: number[];
  /** netprov only: the time it reports for its own work (read state, plan, apply). */
  upWorkMs: number[];
  downWorkMs: number[];
}

export interface NetprovBenchResult {
  count: number;
  rounds: number;
  /** Medians in ms. */
  netprov: { upMs: number; downMs: number; upWorkMs: number; downWorkMs: number };
  naive: { upMs: number; downMs: number };
  samples: { netprov: NetprovBenchSamples; naive: Pick<NetprovBenchSamples, 'upMs' | 'downMs'> };
}

/** Runs `argv` to its end; resolves with the wall time and the output. @throws on a non-zero exit */
function timed(argv: readonly string[]): Promise<{ ms: number; out: string }> {
  const started = process.hrtime.bigint();
  const child = spawn(argv[0] as string, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (code === 0) resolve({ ms, out });
      else reject(new Error(`${argv.join(' ')} failed (exit ${code}): ${out.trim().slice(0, 500)}`));
    });
  });
}

/**
 * The naive way, run inside the namespace by a small Node driver: one `ip` process per step,
 * each awaited before the next; prints its elapsed ms. Slot i gets 172.16.0.0/12's i-th address.
 */
const NAIVE_DRIVER = `
const { spawnSync } = require('node:child_process');
const [prefix, countText, mode] = process.argv.slice(1);
const count = Number(countText);
const ip = (args) => { const r = spawnSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] }); if (r.status !== 0) throw new Error('ip ' + args.join(' ') + ': ' + r.stderr); };
const address = (i) => { const v = (172 << 24 >>> 0) + (16 << 16) + i + 1; return [24, 16, 8, 0].map((s) => (v >>> s) & 255).join('.'); };
const started = process.hrtime.bigint();
for (let i = 0; i < count; i += 1) {
  const dev = prefix + 't' + i;
  if (mode === 'up') { ip(['tuntap', 'add', 'dev', dev, 'mode', 'tap']); ip(['addr', 'add', address(i) + '/32', 'dev', dev]); ip(['link', 'set', 'dev', dev, 'up']); }
  else ip(['link', 'del', 'dev', dev]);
}
console.log(Number(process.hrtime.bigint() - started) / 1e6);
`;

/** netprov's own figure from its summary line ("… in 0.42 s"). */
function workMs(out: string): number {
  const match = / in (\d+(?:\.\d+)?) s\b/.exec(out);
  return match ? Number(match[1]) * 1000 : Number.NaN;
}

export async function benchNetprov(options: NetprovBenchOptions = {}): Promise<NetprovBenchResult> {
  const count = options.count ?? 1000;
  const rounds = options.rounds ?? 3;
  const say = options.progress ?? (() => undefined);
  if (process.getuid?.() !== 0) throw new Error('the netprov benchmark needs root (it creates a network namespace and tap devices in it)');
  const tag = randomBytes(2).toString('hex');
  const ns = `crlbench-${tag}`;
  const prefix = `b${tag}-`;
  const inNs = (...argv: string[]): string[] => ['ip', 'netns', 'exec', ns, ...argv];
  const netprov = (...args: string[]): string[] => inNs(process.execPath, serviceEntry('netprov'), ...args, '--backend', 'tap', '--prefix', prefix, '--no-redis');
  const naive = (mode: 'up' | 'down'): string[] => inNs(process.execPath, '-e', NAIVE_DRIVER, prefix, String(count), mode);
  const taps = (): number => {
    const out = spawnSync('ip', ['-n', ns, '-json', 'link', 'show'], { encoding: 'utf8' }).stdout;
    return (JSON.parse(out || '[]') as { ifname: string }[]).filter((l) => l.ifname.startsWith(`${prefix}t`)).length;
  };
  const expectTaps = (n: number, after: string): void => {
    const found = taps();
    if (found !== n) throw new Error(`after ${after}: ${found} tap devices, expected ${n}`);
  };

  const samples = {
    netprov: { upMs: [] as number[], downMs: [] as number[], upWorkMs: [] as number[], downWorkMs: [] as number[] },
    naive: { upMs: [] as number[], downMs: [] as number[] },
  };
  const made = spawnSync('ip', ['netns', 'add', ns], { encoding: 'utf8' });
  if (made.status !== 0) throw new Error(`ip netns add ${ns} failed: ${made.stderr}`);
  try {
    for (let round = 1; round <= rounds; round += 1) {
      // Alternate which way goes first, so that neither always runs on a "warmer" kernel.
      const ways = round % 2 === 1 ? (['netprov', 'naive'] as const) : (['naive', 'netprov'] as const);
      for (const way of ways) {
        if (way === 'netprov') {
          await settle();
          const up = await timed(netprov('up', '--count', String(count)));
          expectTaps(count, 'netprov up');
          await settle();
          const down = await timed(netprov('down'));
          expectTaps(0, 'netprov down');
          samples.netprov.upMs.push(up.ms);
          samples.netprov.downMs.push(down.ms);
          samples.netprov.upWorkMs.push(workMs(up.out));
          samples.netprov.downWorkMs.push(workMs(down.out));
          say(`netprov round ${round}/${rounds}: up ${up.ms.toFixed(0)} ms, down ${down.ms.toFixed(0)} ms`);
        } else {
          await settle();
          const up = Number((await timed(naive('up'))).out.trim());
          expectTaps(count, 'naive up');
          await settle();
          const down = Number((await timed(naive('down'))).out.trim());
          expectTaps(0, 'naive down');
          samples.naive.upMs.push(up);
          samples.naive.downMs.push(down);
          say(`naive round ${round}/${rounds}: up ${up.toFixed(0)} ms, down ${down.toFixed(0)} ms`);
        }
      }
    }
  } finally {
    spawnSync('ip', ['netns', 'del', ns]);
  }
  return {
    count,
    rounds,
    netprov: {
      upMs: median(samples.netprov.upMs),
      downMs: median(samples.netprov.downMs),
      upWorkMs: median(samples.netprov.upWorkMs),
      downWorkMs: median(samples.netprov.downWorkMs),
    },
    naive: { upMs: median(samples.naive.upMs), downMs: median(samples.naive.downMs) },
    samples,
  };
}
