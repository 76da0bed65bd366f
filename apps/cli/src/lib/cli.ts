import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { CorralClient, CorralClientError } from '@corral/client';
import { parseCompare } from './compare';
import { EXIT } from './exit-codes';
import { output, type Output } from './output';
import { runCommand } from './run';
import { statusCommand } from './status';
import type { testCommand as TestCommand } from './test';
import { positiveInt, UsageError } from './usage';

/** The command's own version (apps/cli/package.json). */
const VERSION = (JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;

const EXIT_HELP = `
Exit codes:
  corral run    the program's own exit code; 128+N when a signal N ended it;
                124 past its time limit; 125 past its CPU, memory or output limit
  corral test   0 when every case passes, 1 otherwise
  all           2 bad usage; 3 the service did not run it (unreachable, an error answer); 130 Ctrl-C

Environment: CORRAL_URL (--url), CORRAL_API_KEY (--key), NO_COLOR (no colours).`;

/** commander parses flags; a bad value is an InvalidArgumentError, which commander reports with the usage. */
function flag<T>(parse: (value: string) => T): (value: string) => T {
  return (value) => {
    try {
      return parse(value);
    } catch (err) {
      throw new InvalidArgumentError((err as Error).message);
    }
  };
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** What every command needs: the client of the router the global flags name, and where to write. */
interface Context {
  client(): CorralClient;
  o: Output;
  signal: AbortSignal;
}

function programOptions(command: Command): Command {
  return command
    .option('--ts', 'TypeScript (the default for a .ts, .mts or .cts entry)')
    .option('--timeout <ms>', 'wall-time limit in ms', flag(positiveInt('--timeout')))
    .option('--memory <mb>', 'memory limit in MB', flag(positiveInt('--memory')))
    .option('--json', 'print the answer as JSON instead');
}

/** The `corral` program; `done` receives each command's exit code. */
export function buildCli(context: Context, done: (code: number) => void): Command {
  const program = new Command('corral')
    .description("Runs JavaScript and TypeScript in corral's sandboxes, from a terminal.")
    .addOption(new Option('--url <url>', "the router's URL").env('CORRAL_URL').default('http://127.0.0.1:8080'))
    .addOption(new Option('--key <key>', 'API key, when the router asks for one').env('CORRAL_API_KEY'))
    .version(VERSION, '-V, --version')
    .showHelpAfterError()
    .addHelpText('after', EXIT_HELP)
    .exitOverride();
  const wrap = <A extends unknown[]>(fn: (...args: A) => Promise<number>) => async (...args: A) => done(await fn(...args));

  programOptions(program.command('run').summary('run a program once and print its output').argument('<files...>', 'the program: the entry file first, then the files it imports'))
    .description('Runs a program in a fresh sandbox, prints its stdout and stderr, and exits with its exit code.')
    .option('--stdin <file>', 'its standard input: a file, or - for this stdin')
    .option('--arg <value>', 'an argument for the program (process.argv[2]…), repeatable', collect)
    .addHelpText('after', EXIT_HELP)
    .action(wrap((files: string[], options: Parameters<typeof runCommand>[2]) => runCommand(context.client(), files, options, context.o, context.signal)));

  programOptions(program.command('test').summary('judge a program against a folder of cases').argument('<files...>', 'the program: the entry file first'))
    .description('Runs the program once per case of DIR (1.in with 1.out, 2.in with 2.out…) and prints a verdict per case; exits 0 only when all pass.')
    .requiredOption('--cases <dir>', 'the folder of N.in / N.out cases')
    .option('--compare <mode>', 'exact, trim (default), tokens or float:TOLERANCE', flag(parseCompare))
    .option('--parallel <n>', 'cases running at once (the router still keeps a slot for others)', flag(positiveInt('--parallel')), 4)
    .addHelpText('after', EXIT_HELP)
    .action(
      wrap(async (files: string[], options: Parameters<typeof TestCommand>[2]) => {
        // Loaded only for `corral test` (the progress bar, the verdict rules): `corral run` starts faster.
        const { testCommand } = await import('./test.js');
        return testCommand(context.client(), files, options, context.o, context.signal);
      }),
    );

  program
    .command('status')
    .summary('show the pool: slots by state, the queue, the hosts')
    .option('--json', 'print the pool answer as JSON')
    .action(wrap((options: { json?: boolean }) => statusCommand(context.client(), options, context.o, context.signal)));

  // Every subcommand exits 2 on a usage mistake, as the program does.
  for (const command of program.commands) command.exitOverride().showHelpAfterError();
  return program;
}

/** Runs `corral` with `argv` (process.argv) and resolves with the exit code. */
export async function main(argv: string[], signal: AbortSignal, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const o = output(env);
  let code: number = EXIT.ok;
  const context: Context = {
    o,
    signal,
    client: () => {
      // Called by a command's action, after the flags are parsed.
      const options = program.opts<{ url: string; key?: string }>();
      try {
        return new CorralClient({ baseUrl: options.url, ...(options.key ? { apiKey: options.key } : {}), retries: 2, maxRetryDelayMs: 10_000 });
      } catch {
        throw new UsageError(`--url must be an absolute URL (http://host:port), not "${options.url}"`);
      }
    },
  };
  const program = buildCli(context, (c) => (code = c));
  try {
    await program.parseAsync(argv);
    return code;
  } catch (err) {
    return failureCode(err, o);
  }
}

function failureCode(err: unknown, o: Output): number {
  if (err instanceof CommanderError) {
    // --help and --version are exits of their own, with commander's code 0.
    return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
  }
  if (err instanceof UsageError) {
    o.err.write(`corral: ${err.message}\n(corral --help for usage)\n`);
    return EXIT.usage;
  }
  if (err instanceof CorralClientError) {
    if (err.code === 'request_aborted') {
      o.err.write('corral: interrupted\n');
      return EXIT.interrupted;
    }
    o.err.write(`${o.c.red('corral:')} ${err.message} ${o.c.dim(`(${err.code}${err.httpStatus ? `, HTTP ${err.httpStatus}` : ''})`)}\n`);
    return EXIT.service;
  }
  throw err;
}
