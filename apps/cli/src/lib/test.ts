import { SingleBar } from 'cli-progress';
import type { CorralClient, TestResult } from '@corral/client';
import { summarizeTests, type Compare } from '@corral/contracts';
import { readCases, type JudgeCase } from './cases';
import { testsExitCode } from './exit-codes';
import { formatBytes, table, type Output } from './output';
import { programRequest, type ProgramOptions } from './program-files';

export interface TestOptions extends Omit<ProgramOptions, 'stdin'> {
  cases: string;
  compare?: Compare;
  parallel?: number;
  json?: boolean;
}

/** Runs `work` over `items`, at most `limit` at once, keeping the order of the answers. */
async function eachLimited<T, R>(items: T[], limit: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}

function verdictCell(test: TestResult, o: Output): string {
  return test.status === 'accepted' ? o.co.green(test.status) : o.co.red(test.status);
}

function figuresOf(test: TestResult): string[] {
  return 'durationMs' in test ? [`${test.durationMs} ms`, `${test.cpuMs} ms`, formatBytes(test.memoryBytes)] : ['-', '-', '-'];
}

/**
 * `corral test FILE… --cases DIR`: each case runs as a one-test submission (a few at once), so
 * that a progress bar can move as cases end; then a verdict table. Exit 0 only when all pass.
 */
export async function testCommand(client: CorralClient, files: string[], options: TestOptions, o: Output, signal: AbortSignal): Promise<number> {
  const compare = options.compare ?? 'trim';
  const cases = await readCases(options.cases);
  const program = await programRequest(files, options);
  const bar = new SingleBar({ stream: o.err, format: 'cases {bar} {value}/{total}', hideCursor: true, clearOnComplete: true, barsize: 30 });
  if (!options.json) bar.start(cases.length, 0);
  let tests: TestResult[];
  try {
    tests = await eachLimited(cases, options.parallel ?? 4, async (c: JudgeCase, index) => {
      const answer = await client.executeTests({ ...program, compare, tests: [{ stdin: c.stdin, expected: c.expected }] }, { signal });
      bar.increment();
      return { ...(answer.tests[0] as TestResult), index };
    });
  } finally {
    bar.stop();
  }
  const summary = summarizeTests(tests);
  if (options.json) {
    o.out.write(JSON.stringify({ summary, tests: tests.map((t) => ({ case: cases[t.index]?.name, ...t })) }, null, 2) + '\n');
    return testsExitCode(summary);
  }
  const rows = [['case', 'verdict', 'time', 'cpu', 'memory'].map((h) => o.co.dim(h))];
  for (const test of tests) rows.push([cases[test.index]?.name ?? String(test.index), verdictCell(test, o), ...figuresOf(test)]);
  o.out.write(table(rows));
  const failed = tests.filter((t) => t.status !== 'accepted').map((t) => cases[t.index]?.name);
  const line = `${summary.accepted}/${summary.total} passed`;
  o.out.write(failed.length === 0 ? `${o.co.green(line)}\n` : `${o.co.red(line)}; failed: ${failed.join(', ')}\n`);
  return testsExitCode(summary);
}
