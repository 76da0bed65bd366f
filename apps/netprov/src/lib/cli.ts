import { parseArgs } from 'node:util';
import { ConfigError, loadNetprovConfig, type Env } from '@corral/config';
import type { SlotAddress, SlotRecord } from '@corral/contracts';
import { Registry } from '@corral/registry';
import { planLoopback, PlanError } from './loopback';

export const USAGE = `usage: netprov <command> [options]

commands:
  up --count N     reconcile this host to exactly N slots and publish them
  down             remove every slot of this host that netprov made
  ls               list this host's slots and their state

options:
  --count N        number of slots (up)
  --base IP        first loopback address (default: CORRAL_LOOPBACK_BASE or 127.77.0.1)
  --backend NAME   loopback (default: CORRAL_BACKEND or loopback)
  --host ID        this host's id (default: CORRAL_HOST_ID or the hostname)
  --dry-run        print the plan, change nothing (up, down)
  --json           machine-readable output (ls)
  -h, --help       this text

environment: REDIS_URL, CORRAL_REDIS_PREFIX, CORRAL_HOST_ID, CORRAL_BACKEND, CORRAL_LOOPBACK_BASE`;

export interface CliIo {
  env: Env;
  out: (text: string) => void;
  err: (text: string) => void;
}

/** Bad usage: exit 2 with the message and the usage. */
class UsageError extends Error {}

/** "first … last" of a non-empty plan. */
function span(plan: readonly SlotAddress[]): string {
  return `${plan[0]?.ip} … ${plan[plan.length - 1]?.ip}`;
}

function table(slots: readonly SlotRecord[]): string {
  const rows = [['SLOT', 'ADDRESS', 'PORT', 'STATE', 'PID'], ...slots.map((s) => [s.id, s.ip, String(s.port ?? '-'), s.state, String(s.pid ?? '-')])];
  const widths = rows[0]?.map((_, col) => Math.max(...rows.map((r) => r[col]?.length ?? 0))) ?? [];
  return rows.map((r) => r.map((cell, col) => cell.padEnd(widths[col] ?? 0)).join('  ').trimEnd()).join('\n');
}

/** Runs one netprov command; returns the process exit code (0 done, 1 failed, 2 bad input). */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let registry: Registry | undefined;
  try {
    const { values, positionals } = (() => {
      try {
        return parseArgs({
          args: [...argv],
          allowPositionals: true,
          strict: true,
          options: {
            count: { type: 'string' },
            base: { type: 'string' },
            backend: { type: 'string' },
            host: { type: 'string' },
            'dry-run': { type: 'boolean', default: false },
            json: { type: 'boolean', default: false },
            help: { type: 'boolean', short: 'h', default: false },
          },
        });
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
    })();
    if (values.help) {
      io.out(USAGE);
      return 0;
    }
    const [command, ...extra] = positionals;
    if (!command) throw new UsageError('no command given');
    if (extra.length > 0) throw new UsageError(`unexpected argument: ${extra[0]}`);
    if (!['up', 'down', 'ls'].includes(command)) throw new UsageError(`unknown command: ${command}`);

    const config = loadNetprovConfig({
      ...io.env,
      ...(values.host !== undefined ? { CORRAL_HOST_ID: values.host } : {}),
      ...(values.backend !== undefined ? { CORRAL_BACKEND: values.backend } : {}),
    });
    if (config.backend !== 'loopback') throw new UsageError(`the ${config.backend} backend is not available yet; use --backend loopback`);
    const host = config.hostId;

    let plan: SlotAddress[] = [];
    if (command === 'up') {
      if (values.count === undefined) throw new UsageError('up needs --count N');
      if (!/^\d+$/.test(values.count)) throw new PlanError(`--count must be a whole number of at least 1, got ${JSON.stringify(values.count)}.`);
      plan = planLoopback(host, Number(values.count), values.base ?? config.loopbackBase);
    }
    if (values['dry-run'] && command !== 'ls') {
      io.out(command === 'up'
        ? `would reconcile host ${host} to ${plan.length} ${config.backend} slots: ${span(plan)}`
        : `would remove every slot of host ${host}`);
      return 0;
    }

    registry = await Registry.connect({ url: config.redisUrl, prefix: config.redisPrefix, failFast: true, connectTimeoutMs: 5000 });
    if (command === 'ls') {
      const slots = await registry.listSlots(host);
      io.out(values.json ? JSON.stringify(slots, null, 2) : slots.length > 0 ? table(slots) : `host ${host} has no slots`);
      return 0;
    }
    const { added, removed, changed } = await registry.publishInventory(host, config.backend, plan);
    io.out(
      command === 'up'
        ? `host ${host}: ${plan.length} ${config.backend} slots, ${span(plan)} (added ${added}, removed ${removed}, changed ${changed})`
        : `host ${host}: removed ${removed} slots`,
    );
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`netprov: ${err.message}\n\n${USAGE}`);
      return 2;
    }
    if (err instanceof PlanError || err instanceof ConfigError) {
      io.err(`netprov: ${err.message}`);
      return 2;
    }
    io.err(`netprov: ${(err as Error).message}`);
    return 1;
  } finally {
    await registry?.close();
  }
}
