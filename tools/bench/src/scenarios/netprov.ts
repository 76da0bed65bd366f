import { formatMs, formatRatio } from '../format';
import { benchNetprov, type NetprovBenchResult } from '../netprov';
import { ratio } from '../stats';
import { atMost } from '../targets';
import type { Scenario } from './scenario';

/** netprov up and down of 1000 tap slots, ms, at most (the whole command). */
export const NETPROV_TARGET_MS = 1000;

/** Scenario 7: netprov's `up` and `down` of 1000 tap slots against one `ip` process per step. */
export const netprov: Scenario<NetprovBenchResult> = {
  id: 'netprov',
  title: '7. netprov: 1000 tap slots',
  needs: [],

  run(ctx) {
    if (process.getuid?.() !== 0) throw new Error('needs root (tap devices inside a network namespace of its own)');
    return benchNetprov({ ...ctx.plan.netprov, progress: (line) => ctx.progress.say(`netprov: ${line}`) });
  },

  render(r) {
    return {
      method: [
        `\`up\` and \`down\` of ${r.count} tap slots inside a network namespace the benchmark creates and deletes (no packet is sent), ` +
          `${r.rounds} round(s), medians. netprov changes everything through one \`ip -batch\` run; the baseline does the same steps the naive ` +
          'way, one `ip` process per step, one after another. "whole command" includes starting Node (netprov is a CLI); "its work" is what ' +
          'netprov reports for reading the state, planning and applying. Each timed command, of either way, starts once the cores are ' +
          'quiet (under 10 % busy over 200 ms, waiting at most 5 s): the kernel finishes tearing removed devices down after `ip` returns, ' +
          'and that work would otherwise be charged to whichever command comes next.',
      ],
      tables: [
        {
          headers: ['', 'up', 'down', 'up ÷ naive', 'down ÷ naive'],
          rows: [
            ['netprov, whole command', formatMs(r.netprov.upMs), formatMs(r.netprov.downMs), formatRatio(ratio(r.netprov.upMs, r.naive.upMs)), formatRatio(ratio(r.netprov.downMs, r.naive.downMs))],
            ['netprov, its work', formatMs(r.netprov.upWorkMs), formatMs(r.netprov.downWorkMs), '', ''],
            ['naive: one `ip` per step', formatMs(r.naive.upMs), formatMs(r.naive.downMs), '1.00×', '1.00×'],
          ],
        },
      ],
      notes: [],
    };
  },

  targets(r) {
    return [
      { target: `up of ${r.count} taps < 1 s (whole command)`, measured: formatMs(r.netprov.upMs), met: atMost(r.netprov.upMs, NETPROV_TARGET_MS) },
      { target: `down of ${r.count} taps < 1 s (whole command)`, measured: formatMs(r.netprov.downMs), met: atMost(r.netprov.downMs, NETPROV_TARGET_MS) },
    ];
  },
};
