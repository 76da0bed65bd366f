import { formatBytes, formatDuration, formatPercent as percent, markdownTable } from './format';
import type { MachineInfo } from './machine';
import type { Section } from './scenarios/scenario';
import { verdict } from './targets';

export interface ReportInput {
  generatedAt: Date;
  mode: 'full' | 'quick';
  /** How to reproduce, e.g. "npm run bench". */
  command: string;
  durationSeconds: number;
  machine: MachineInfo;
  /** How the measured system was set up: one bullet each. */
  setup: readonly string[];
  sections: readonly Section[];
  /** Scenarios that could not be measured, and why. */
  failures: readonly { title: string; message: string }[];
}

/** "2025-11-25 16:04 UTC" */
export function formatDate(date: Date): string {
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

function machineTable(m: MachineInfo): string {
  return markdownTable({
    headers: ['', ''],
    align: ['left', 'left'],
    rows: [
      ['CPU', m.cpuModel],
      ['cores', String(m.cores)],
      ['RAM', formatBytes(m.ramBytes)],
      ['kernel', m.kernel],
      ["services' node", m.servicesNode],
      ['sandbox runtime', m.sandboxNode],
      ['Redis', m.redis],
      ['commit', `${m.commit.slice(0, 12)}${m.dirty ? ' + uncommitted changes' : ''}`],
    ],
  });
}

/** BENCHMARKS.md: date, machine, a summary of every target, then one part per scenario. */
export function renderReport(input: ReportInput): string {
  const out: string[] = [];
  out.push('# Benchmarks', '');
  out.push(
    `Measured by \`${input.command}\` on ${formatDate(input.generatedAt)} (${input.mode} run, ${formatDuration(input.durationSeconds)}). ` +
      'The harness (tools/bench) starts everything it measures itself: the stack as separate processes with a private Redis, and each ' +
      'baseline in the same run. Latencies are percentiles (p50/p90/p99) over all requests of a run; rates and boot figures are medians ' +
      'with the IQR (p75 − p25) over rounds or samples. Figures differ between machines and runs: compare rows of one run, not runs.',
    '',
  );
  out.push('## Machine', '', machineTable(input.machine), '');
  if (input.setup.length > 0) out.push('## Setup', '', ...input.setup.map((line) => `- ${line}`), '');

  const checks = input.sections.flatMap((s) =>
    s.checks.map((c) => [s.title.replace(/^\d+\.\s*/, ''), c.target, c.measured, verdict(c.met), s.othersCpuShare === undefined ? 'n/a' : percent(s.othersCpuShare)]),
  );
  if (checks.length > 0 || input.failures.length > 0) {
    out.push('## Summary', '');
    const rows = [...checks, ...input.failures.map((f) => [f.title, '', 'failed to run', 'not measured', ''])];
    out.push(
      markdownTable({ headers: ['scenario', 'target', 'measured', 'result', "others' CPU"], align: ['left', 'left', 'right', 'left', 'right'], rows }),
      '',
      "*others' CPU*: the share of all cores that processes not started by the benchmark used while the scenario ran " +
        '(from /proc); the figures of a scenario with more than a few per cent are disturbed.',
      '',
    );
  }

  for (const section of input.sections) {
    out.push(`## ${section.title}`, '');
    for (const paragraph of section.method) out.push(paragraph, '');
    for (const table of section.tables) out.push(markdownTable(table), '');
    if (section.checks.length > 0) {
      out.push(
        markdownTable({
          headers: ['target', 'measured', 'result'],
          align: ['left', 'right', 'left'],
          rows: section.checks.map((c) => [c.target, c.measured, verdict(c.met)]),
        }),
        '',
      );
    }
    if (section.othersCpuShare !== undefined) {
      out.push(`Processes not started by the benchmark used ${percent(section.othersCpuShare)} of the cores while this scenario ran.`, '');
    }
    for (const note of section.notes) out.push(note, '');
    for (const table of section.extraTables ?? []) out.push(markdownTable(table), '');
  }

  if (input.failures.length > 0) {
    out.push('## Scenarios that failed', '');
    for (const f of input.failures) out.push(`- **${f.title}**: ${f.message.replace(/\s+/g, ' ')}`);
    out.push('');
  }
  return `${out.join('\n').trimEnd()}\n`;
}
