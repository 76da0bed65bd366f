import type { CorralClient, ExecutionRequest, ExecutionResult } from '@corral/client';
import type { Output } from './output';

/**
 * Runs one program for `corral run`, its stdout to this process's stdout and its stderr to
 * stderr. The command's one seam for live output: today the blocking call, so the output is
 * written once the program ended; when the API streams (SSE), this is where events are written
 * as they come, and nothing else in the command changes.
 */
export async function runProgram(client: CorralClient, request: ExecutionRequest, o: Pick<Output, 'out' | 'err'>, signal: AbortSignal): Promise<ExecutionResult> {
  const result = await client.execute(request, { signal });
  if (result.stdout) o.out.write(result.stdout);
  if (result.stderr) o.err.write(result.stderr);
  return result;
}
