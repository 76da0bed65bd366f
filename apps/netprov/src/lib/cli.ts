import { parseArgs } from 'node:util';
import { ConfigError, loadNetprovConfig, type Env } from '@corral/config';
import { runKernel } from './cli-kernel';
import { runLoopback } from './cli-loopback';
import { DEFAULT_CIDR } from './cidr';
import { IpError } from './ip';
import { PlanError } from './loopback';
import { DEFAULT_PREFIX } from './names';

export const USAGE = `usage: netprov <command> [options]

commands:
  up --count N     reconcile this host to exactly N slots and publish them
  down             remove every slot of this host that netprov made
  ls               list this host's slots and their state

options:
  --count N        number of slots (up)
  --backend NAME   loopback, tap or netns (default: CORRAL_BACKEND or loopback)
  --base IP        loopback: first address (default: CORRAL_LOOPBACK_BASE or 127.77.0.1)
  --cidr RANGE     tap, netns: private range of the slot addresses (default: CORRAL_CIDR or ${DEFAULT_CIDR})
  --prefix P       tap, netns: name prefix of netprov's devices and namespaces (default: CORRAL_NETPROV_PREFIX or ${DEFAULT_PREFIX})
  --host ID        this host's id (default: CORRAL_HOST_ID or the hostname)
  --no-redis       tap, netns: change or list the kernel only; do not read or publish the inventory
  --dry-run        print the plan, change nothing (up, down)
  --json           machine-readable output (ls)
  -h, --help       this text

environment: REDIS_URL, CORRAL_REDIS_PREFIX, CORRAL_HOST_ID, CORRAL_BACKEND, CORRAL_LOOPBACK_BASE,
CORRAL_CIDR, CORRAL_NETPROV_PREFIX`;

export interface CliIo {
  env: Env;
  out: (text: string) => void;
  err: (text: string) => void;
  /** Effective uid (tests); default: the process's. */
  uid?: number;
}

/** The parsed command line. */
export interface CliOptions {
  count: number | undefined;
  base: string | undefined;
  cidr: string | undefined;
  prefix: string | undefined;
  noRedis: boolean;
  dryRun: boolean;
  json: boolean;
}

/** Bad usage: exit 2 with the message and the usage. */
class UsageError extends Error {}

function parse(argv: readonly string[]): { command: string | undefined; help: boolean; options: CliOptions; host?: string; backend?: string } {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        count: { type: 'string' },
        base: { type: 'string' },
        backend: { type: 'string' },
        host: { type: 'string' },
        cidr: { type: 'string' },
        prefix: { type: 'string' },
        'no-redis': { type: 'boolean', default: false },
        'dry-run': { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  const [command, ...extra] = positionals;
  if (values.help) return { command, help: true, options: {} as CliOptions };
  if (!command) throw new UsageError('no command given');
  if (extra.length > 0) throw new UsageError(`unexpected argument: ${extra[0]}`);
  if (!['up', 'down', 'ls'].includes(command)) throw new UsageError(`unknown command: ${command}`);
  if (command === 'up' && values.count === undefined) throw new UsageError('up needs --count N');
  if (values.count !== undefined && !/^\d+$/.test(values.count)) {
    throw new PlanError(`--count must be a whole number of at least 1, got ${JSON.stringify(values.count)}.`);
  }
  const count = values.count === undefined ? undefined : Number(values.count);
  if (command === 'up' && count !== undefined && count < 1) throw new PlanError(`--count must be a whole number of at least 1, got ${count}.`);
  return {
    command,
    help: false,
    ...(values.host !== undefined ? { host: values.host } : {}),
    ...(values.backend !== undefined ? { backend: values.backend } : {}),
    options: {
      count,
      base: values.base,
      cidr: values.cidr,
      prefix: values.prefix,
      noRedis: values['no-redis'],
      dryRun: values['dry-run'],
      json: values.json,
    },
  };
}

/** Runs one netprov command; returns the process exit code (0 done, 1 failed, 2 bad input). */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    const { command, help, options, host, backend } = parse(argv);
    if (help || !command) {
      io.out(USAGE);
      return 0;
    }
    const config = loadNetprovConfig({
      ...io.env,
      ...(host !== undefined ? { CORRAL_HOST_ID: host } : {}),
      ...(backend !== undefined ? { CORRAL_BACKEND: backend } : {}),
    });
    if (config.backend === 'loopback') {
      for (const [flag, given] of [['--cidr', options.cidr], ['--prefix', options.prefix], ['--no-redis', options.noRedis || undefined]] as const) {
        if (given !== undefined) throw new UsageError(`${flag} applies to the tap and netns backends only`);
      }
      return await runLoopback(command, options, config, io);
    }
    if (options.base !== undefined) throw new UsageError('--base applies to the loopback backend only; use --cidr');
    return await runKernel(command, options, { ...config, backend: config.backend }, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`netprov: ${err.message}\n\n${USAGE}`);
      return 2;
    }
    if (err instanceof PlanError || err instanceof ConfigError) {
      io.err(`netprov: ${err.message}`);
      return 2;
    }
    if (err instanceof IpError) {
      io.err(`netprov: ${err.message}\nnothing is lost: run the same command again to finish (up) or clean up (down).`);
      return 1;
    }
    io.err(`netprov: ${(err as Error).message}`);
    return 1;
  }
}
