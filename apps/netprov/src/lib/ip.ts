import { spawn } from 'node:child_process';

/** `ip` failed: which command of the batch, and what the kernel said. */
export class IpError extends Error {
  override name = 'IpError';
}

export interface BatchOptions {
  /** Called with the number of progress markers passed so far (see `PROGRESS_MARKER`). */
  onMarker?: (passed: number) => void;
}

/**
 * A batch line that does nothing but print one line starting with "1: lo:" when ip reaches it;
 * ip flushes its output after every command, so these lines report real progress.
 */
export const PROGRESS_MARKER = 'link show dev lo';
const MARKER_OUTPUT = /^\d+: lo:/;

interface IpRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Set when ip could not be started at all. */
  spawnError?: Error;
}

/**
 * Runs `ip args…` with `input` on stdin. node:child_process rather than execa: `ip` is all a
 * tap backend's `up` and `down` run, and loading execa's modules cost ~140 ms of each CLI run.
 */
function runIp(args: readonly string[], input: string, onStdout?: (chunk: string) => void): Promise<IpRun> {
  return new Promise((resolve) => {
    const child = spawn('ip', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let spawnError: Error | undefined;
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => (onStdout ? onStdout(chunk) : (stdout += chunk)));
    child.stderr.on('data', (chunk: string) => (stderr += chunk));
    child.stdin.on('error', () => undefined); // ip may end before it has read everything
    child.once('error', (err) => (spawnError = err));
    child.once('close', (code) => resolve({ code, stdout, stderr, ...(spawnError ? { spawnError } : {}) }));
    child.stdin.end(input);
  });
}

/** Runs `ip -json …` once and parses its output (an empty output is an empty list). @throws IpError */
export async function ipJson<T>(args: readonly string[]): Promise<T[]> {
  const run = await runIp(['-json', ...args], '');
  if (run.spawnError || run.code !== 0) {
    throw new IpError(`ip -json ${args.join(' ')} failed: ${run.spawnError?.message ?? (run.stderr.trim() || `exit code ${run.code}`)}`);
  }
  return run.stdout.trim() === '' ? [] : (JSON.parse(run.stdout) as T[]);
}

/**
 * Runs every line in one `ip -batch -` process, fed through stdin. ip stops at the first
 * failing line; the error names that line and ip's message.
 * @throws IpError
 */
export async function runIpBatch(lines: readonly string[], options: BatchOptions = {}): Promise<void> {
  if (lines.length === 0) return;
  let passed = 0;
  let rest = '';
  const run = await runIp(['-batch', '-'], `${lines.join('\n')}\n`, (chunk) => {
    const parts = (rest + chunk).split('\n');
    rest = parts.pop() ?? '';
    for (const line of parts) if (MARKER_OUTPUT.test(line)) options.onMarker?.((passed += 1));
  });
  if (run.code === 0 && !run.spawnError) return;
  const stderr = run.stderr.trim();
  const at = /Command failed -:(\d+)/.exec(stderr);
  const line = at ? lines[Number(at[1]) - 1] : undefined;
  const reason = stderr.split('\n').filter((l) => !l.startsWith('Command failed')).join('; ') || run.spawnError?.message || `exit code ${run.code}`;
  throw new IpError(line ? `ip failed at "${line}": ${reason}` : `ip -batch failed: ${reason}`);
}
