import { SCENARIO_IDS } from '../args';
import { inReportOrder, SCENARIOS } from './all';

describe('the scenario list', () => {
  it('has every scenario once, runs those without the stack first, and the hostile programs last', () => {
    expect([...SCENARIOS.map((s) => s.id)].sort()).toEqual([...SCENARIO_IDS].sort());
    const needsStack = SCENARIOS.map((s) => s.needs.includes('stack'));
    expect(needsStack).toEqual([...needsStack].sort((a, b) => Number(a) - Number(b)));
    expect(SCENARIOS[0]?.id).toBe('boot');
    expect(SCENARIOS.at(-1)?.id).toBe('mixed');
  });

  it('numbers the titles as --only does, and the report follows the numbers', () => {
    for (const s of SCENARIOS) expect(s.title.startsWith(`${SCENARIO_IDS.indexOf(s.id) + 1}. `)).toBe(true);
    expect(inReportOrder(SCENARIOS).map((s) => s.id)).toEqual([...SCENARIO_IDS]);
  });

  it('starts the naive baseline only for the scenarios that compare with it, and the stack for every HTTP scenario', () => {
    expect(Object.fromEntries(SCENARIOS.map((s) => [s.id, [...s.needs].sort()]))).toEqual({
      boot: [],
      watchdog: [],
      netprov: [],
      latency: ['naive', 'stack'],
      overhead: ['naive', 'stack'],
      throughput: ['stack'],
      mixed: ['stack'],
      output: ['stack'],
      programs: ['stack'],
      judging: ['stack'],
      cli: ['stack'],
      streaming: ['stack'],
      compat: ['stack'],
    });
  });
});
