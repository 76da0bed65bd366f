import { execa } from 'execa';

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

/** Runs `ip -json …` once and parses its output (an empty output is an empty list). */
export async function ipJson<T>(args: readonly string[]): Promise<T[]> {
  const { stdout } = await execa('ip', ['-json', ...args], { stripFinalNewline: true });
  return stdout.trim() === '' ? [] : (JSON.parse(stdout) as T[]);
}

/**
 * Runs every line in one `ip -batch -` process, fed through stdin. ip stops at the first
 * failing line; the error names that line and ip's message.
 * @throws IpError
 */
export async function runIpBatch(lines: readonly string[], options: BatchOptions = {}): Promise<void> {
  if (lines.length === 0) return;
  const proc = execa('ip', ['-batch', '-'], { input: `${lines.join('\n')}\n`, reject: false, buffer: { stdout: false } });
  let passed = 0;
  let rest = '';
  proc.stdout?.setEncoding('utf8');
  proc.stdout?.on('data', (chunk: string) => {
    const parts = (rest + chunk).split('\n');
    rest = parts.pop() ?? '';
    for (const line of parts) if (MARKER_OUTPUT.test(line)) options.onMarker?.((passed += 1));
  });
  const result = await proc;
  if (result.exitCode === 0 && !result.failed) return;
  const stderr = String(result.stderr ?? '').trim();
  const at = /Command failed -:(\d+)/.exec(stderr);
  const line = at ? lines[Number(at[1]) - 1] : undefined;
  const reason = stderr.split('\n').filter((l) => !l.startsWith('Command failed')).join('; ') || result.shortMessage;
  throw new IpError(line ? `ip failed at "${line}": ${reason}` : `ip -batch failed: ${reason}`);
}
