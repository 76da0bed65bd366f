import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { UsageError } from './usage';

/** One case of the judge layout: `N.in` and the output it must give, `N.out`. */
export interface JudgeCase {
  name: string;
  stdin: string;
  expected: string;
}

/** The cases of `dir` (`1.in`/`1.out`, `2.in`/`2.out`…), in the order of their numbers (names that are not numbers after them, by name). */
export async function readCases(dir: string): Promise<JudgeCase[]> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (err) {
    throw new UsageError(`cannot read the cases folder ${dir}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  const names = entries.filter((e) => e.endsWith('.in')).map((e) => e.slice(0, -3));
  if (names.length === 0) throw new UsageError(`no cases in ${dir}: it should hold 1.in and 1.out, 2.in and 2.out…`);
  const missing = names.filter((n) => !entries.includes(`${n}.out`));
  if (missing.length > 0) throw new UsageError(`${missing.map((n) => `${n}.in`).join(', ')} without ${missing.map((n) => `${n}.out`).join(', ')} in ${dir}`);
  const numeric = (n: string): number => (/^\d+$/.test(n) ? Number(n) : Number.POSITIVE_INFINITY);
  names.sort((a, b) => numeric(a) - numeric(b) || a.localeCompare(b));
  return Promise.all(
    names.map(async (name) => ({
      name,
      stdin: await readFile(join(dir, `${name}.in`), 'utf8'),
      expected: await readFile(join(dir, `${name}.out`), 'utf8'),
    })),
  );
}
