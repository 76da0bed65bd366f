import { isFullRun, parseArgs, SCENARIO_IDS } from './args';

describe('parseArgs', () => {
  it('runs everything in full by default', () => {
    const args = parseArgs([]);
    expect(args).toEqual({ quick: false, only: [...SCENARIO_IDS], out: undefined, help: false });
    expect(isFullRun(args)).toBe(true);
  });

  it('reads --quick, --out and --only (names or numbers, kept in the harness order)', () => {
    const args = parseArgs(['--quick', '--only', 'mixed,1', '--out=x.md']);
    expect(args).toEqual({ quick: true, only: ['latency', 'mixed'], out: 'x.md', help: false });
    expect(isFullRun(args)).toBe(false);
  });

  it('treats a partial run as not the full one', () => {
    expect(isFullRun(parseArgs(['--only', 'boot']))).toBe(false);
  });

  it('refuses unknown options, unknown scenarios and missing values', () => {
    expect(() => parseArgs(['--fast'])).toThrow(/unknown option --fast/);
    expect(() => parseArgs(['--only', 'speed'])).toThrow(/unknown scenario "speed"/);
    expect(() => parseArgs(['--only', '10'])).toThrow(/unknown scenario/);
    expect(parseArgs(['--only', '6,7']).only).toEqual(['watchdog', 'netprov']);
    expect(() => parseArgs(['--out'])).toThrow(/--out needs a value/);
    expect(() => parseArgs(['--only', ','])).toThrow(/at least one/);
  });

  it('knows --help', () => {
    expect(parseArgs(['-h']).help).toBe(true);
  });
});
