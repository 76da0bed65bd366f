import type { CorralClient, ExecutionResult } from '@corral/client';
import { exitCodeOf } from './exit-codes';
import { runProgram } from './live';
import { formatBytes, type Output } from './output';
import { programRequest, readInput, type ProgramOptions } from './program-files';

export interface RunOptions extends Omit<ProgramOptions, 'stdin'> {
  stdin?: string;
  arg?: string[];
  json?: boolean;
}

/** One line on stderr of how the program ended and what it cost. */
function statusLine(result: ExecutionResult, o: Output): string {
  const figures = `${result.durationMs} ms, CPU ${result.cpuMs} ms, ${formatBytes(result.memoryBytes)}`;
  const how = result.status === 'ok' ? o.c.green('ok') : o.c.red(result.status);
  const code = result.exitCode !== null ? `exit ${result.exitCode}` : result.signal ? result.signal : '';
  return `${o.c.dim('corral:')} ${how}${code ? ` (${code})` : ''}${result.truncated ? ', output truncated' : ''} ${o.c.dim(`· ${figures}`)}\n`;
}

/** `corral run FILE…`: runs the program, writes its stdout and stderr, and answers the exit code. */
export async function runCommand(client: CorralClient, files: string[], options: RunOptions, o: Output, signal: AbortSignal): Promise<number> {
  const stdin = await readInput(options.stdin);
  const request = await programRequest(files, { ...options, ...(stdin === undefined ? {} : { stdin }) });
  if (options.arg?.length) request.args = options.arg;
  if (options.json) {
    const result = await client.execute(request, { signal });
    o.out.write(JSON.stringify(result, null, 2) + '\n');
    return exitCodeOf(result);
  }
  const result = await runProgram(client, request, o, signal);
  // On a terminal, always how it ended; in a pipe, only when it did not end well.
  if (o.err.isTTY || result.status !== 'ok') o.err.write(statusLine(result, o));
  return exitCodeOf(result);
}
