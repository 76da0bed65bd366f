import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCases } from './cases';
import { parseCompare } from './compare';
import { UsageError } from './usage';

describe('--compare', () => {
  it('the modes, float with a tolerance, and a usage error for anything else', () => {
    expect(parseCompare(undefined)).toBe('trim');
    expect(parseCompare('tokens')).toBe('tokens');
    expect(parseCompare('float:1e-6')).toEqual({ float: 1e-6 });
    expect(() => parseCompare('float:-1')).toThrow(UsageError);
    expect(() => parseCompare('fuzzy')).toThrow(/exact, trim, tokens or float:TOLERANCE/);
  });
});

describe('a cases folder', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'corral-cases-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('pairs N.in with N.out, in the order of the numbers, other names after them', async () => {
    for (const name of ['10', '2', '1', 'extra']) {
      writeFileSync(join(dir, `${name}.in`), `in ${name}`);
      writeFileSync(join(dir, `${name}.out`), `out ${name}`);
    }
    writeFileSync(join(dir, 'README'), 'not a case');
    expect(await readCases(dir)).toEqual([
      { name: '1', stdin: 'in 1', expected: 'out 1' },
      { name: '2', stdin: 'in 2', expected: 'out 2' },
      { name: '10', stdin: 'in 10', expected: 'out 10' },
      { name: 'extra', stdin: 'in extra', expected: 'out extra' },
    ]);
  });

  it('a .in without its .out, an empty folder and a missing one are usage errors that name them', async () => {
    writeFileSync(join(dir, '1.in'), '');
    await expect(readCases(dir)).rejects.toThrow('1.in without 1.out');
    await expect(readCases(join(dir, 'none'))).rejects.toThrow(/cannot read the cases folder .*none: ENOENT/);
    rmSync(join(dir, '1.in'));
    await expect(readCases(dir)).rejects.toThrow(/no cases in/);
  });
});
