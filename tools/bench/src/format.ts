/** Pure formatting of figures and markdown tables. */

/** Milliseconds with precision that suits their size: 0.42 ms, 4.21 ms, 42.1 ms, 421 ms. */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return 'n/a';
  const abs = Math.abs(ms);
  const digits = abs < 10 ? 2 : abs < 100 ? 1 : 0;
  return `${ms.toFixed(digits)} ms`;
}

/** A signed difference in ms: +0.84 ms, −1.20 ms. */
export function formatMsDelta(ms: number): string {
  if (!Number.isFinite(ms)) return 'n/a';
  const text = formatMs(Math.abs(ms));
  return ms < 0 ? `−${text}` : `+${text}`;
}

/** A rate per second: 45.3/s. */
export function formatRate(perSecond: number): string {
  if (!Number.isFinite(perSecond)) return 'n/a';
  return `${perSecond.toFixed(perSecond < 100 ? 1 : 0)}/s`;
}

/** A ratio as a factor: 0.91×, 12.4×; null (undefined ratio) as n/a. */
export function formatRatio(value: number | null): string {
  if (value === null || !Number.isFinite(value)) return 'n/a';
  return `${value.toFixed(value < 10 ? 2 : 1)}×`;
}

/** A share (0–1) as whole per cent: 23 %; null or not finite as n/a. */
export function formatPercent(value: number | null): string {
  return value === null || !Number.isFinite(value) ? 'n/a' : `${Math.round(value * 100)} %`;
}

/** Bytes in MiB with one decimal: 41.3 MiB. */
export function formatMiB(bytes: number): string {
  if (!Number.isFinite(bytes)) return 'n/a';
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** Bytes as the largest fitting unit: 512 B, 3.0 KiB, 23.5 GiB. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return 'n/a';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** A duration in seconds as 42 s or 3 min 05 s. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return 'n/a';
  const whole = Math.round(seconds);
  if (whole < 60) return `${whole} s`;
  const min = Math.floor(whole / 60);
  const sec = whole % 60;
  return `${min} min ${String(sec).padStart(2, '0')} s`;
}

/** "median ± half the IQR"-free notation: the median and the IQR spelled out. */
export function formatMedianIqr(median: number, iqr: number, unit: (v: number) => string): string {
  return `${unit(median)} (IQR ${unit(iqr)})`;
}

export type Align = 'left' | 'right' | 'center';

export interface Table {
  headers: readonly string[];
  rows: readonly (readonly string[])[];
  /** Per column; default left for the first, right for the others (figures). */
  align?: readonly Align[];
}

/** A table cell: pipes escaped, line breaks flattened, so that the table stays one row per line. */
export function escapeCell(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

function separator(align: Align): string {
  switch (align) {
    case 'right':
      return '---:';
    case 'center':
      return ':---:';
    default:
      return '---';
  }
}

/**
 * A GitHub-flavoured markdown table. Short rows are padded with empty cells.
 * @throws Error when a row has more cells than there are headers
 */
export function markdownTable(table: Table): string {
  const width = table.headers.length;
  if (width === 0) throw new Error('a table needs at least one column');
  const align = table.headers.map((_, i) => table.align?.[i] ?? (i === 0 ? 'left' : 'right'));
  const line = (cells: readonly string[]): string => `| ${cells.map(escapeCell).join(' | ')} |`;
  const rows = table.rows.map((row, index) => {
    if (row.length > width) throw new Error(`row ${index + 1} has ${row.length} cells for ${width} columns`);
    return line([...row, ...Array<string>(width - row.length).fill('')]);
  });
  return [line(table.headers), `| ${align.map(separator).join(' | ')} |`, ...rows].join('\n');
}

/** A plain-text table for the terminal: columns padded to their widest cell. */
export function textTable(table: Table): string {
  const width = table.headers.length;
  const all = [table.headers, ...table.rows].map((row) => [...row, ...Array<string>(Math.max(0, width - row.length)).fill('')]);
  const widths = table.headers.map((_, i) => Math.max(...all.map((row) => (row[i] ?? '').length)));
  const align = table.headers.map((_, i) => table.align?.[i] ?? (i === 0 ? 'left' : 'right'));
  return all
    .map((row) =>
      row
        .map((cell, i) => (align[i] === 'right' ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
