import type { SlotAddress } from '@corral/contracts';

/** "first … last" of a non-empty plan. */
export function span(plan: readonly SlotAddress[]): string {
  return `${plan[0]?.ip} … ${plan[plan.length - 1]?.ip}`;
}

/** Left-aligned columns, two spaces apart, no trailing blanks. */
export function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]?.map((_, col) => Math.max(...rows.map((r) => r[col]?.length ?? 0))) ?? [];
  return rows.map((r) => r.map((cell, col) => cell.padEnd(widths[col] ?? 0)).join('  ').trimEnd()).join('\n');
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}
