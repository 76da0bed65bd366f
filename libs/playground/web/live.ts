import type { CorralClient, ExecutionRequest, ExecutionResult } from '@corral/client';

/**
 * Runs the editor's program and fills the stdout and stderr panes. The page's one seam for live
 * output: today the blocking call, so the panes fill once the program ended; when the API
 * streams (SSE), events are appended to the panes here as they come.
 */
export async function runProgram(client: CorralClient, request: ExecutionRequest, panes: { stdout: HTMLElement; stderr: HTMLElement }, signal: AbortSignal): Promise<ExecutionResult> {
  const result = await client.execute(request, { signal });
  panes.stdout.append(result.stdout);
  panes.stderr.append(result.stderr);
  return result;
}
