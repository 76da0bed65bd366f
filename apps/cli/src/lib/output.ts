import pc from 'picocolors';

type Colors = ReturnType<typeof pc.createColors>;

/** Where the CLI writes, and whether with colours: none when the stream is not a TTY or NO_COLOR is set (https://no-color.org). */
export interface Output {
  out: NodeJS.WriteStream;
  err: NodeJS.WriteStream;
  /** Colours for what goes to stderr (statuses, tables), decided once. */
  c: Colors;
  /** Colours for stdout's tables (corral status, corral test). */
  co: Colors;
}

export function wantsColor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): boolean {
  if (env['NO_COLOR'] !== undefined && env['NO_COLOR'] !== '') return false;
  if (env['FORCE_COLOR'] !== undefined && env['FORCE_COLOR'] !== '0') return true;
  return stream.isTTY === true && env['TERM'] !== 'dumb';
}

export function output(env: NodeJS.ProcessEnv = process.env): Output {
  return {
    out: process.stdout,
    err: process.stderr,
    c: pc.createColors(wantsColor(process.stderr, env)),
    co: pc.createColors(wantsColor(process.stdout, env)),
  };
}

/** 46985216 → "44.8 MB" (MiB, as the playground and the docs show memory). */
export function formatBytes(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

/** Pads the cells of a table to its columns' widths (colour codes not counted). */
export function table(rows: string[][]): string {
  // eslint-disable-next-line no-control-regex
  const visible = (s: string): number => s.replace(/\u001b\[[0-9;]*m/g, '').length;
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => visible(r[i] ?? '')))) ?? [];
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell + ' '.repeat((widths[i] ?? 0) - visible(cell)))).join('  ').trimEnd()).join('\n') + '\n';
}
