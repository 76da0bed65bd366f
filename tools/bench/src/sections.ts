import type { ScenarioId } from './args';
import { formatMiB, formatMs, formatMsDelta, formatRate, formatRatio, type Table } from './format';
import type { BootResult, CpuAccount, LatencyResult, MixedResult, OverheadResult, ThroughputResult } from './results';
import { median, ratio, summarize, type Summary } from './stats';
import { atLeast, atMost, TARGETS, type TargetCheck } from './targets';

/** One scenario's part of the report. */
export interface Section {
  id: ScenarioId;
  title: string;
  /** How it was measured: paragraphs. */
  method: string[];
  tables: Table[];
  checks: TargetCheck[];
  notes: string[];
  /** Tables after the notes (details). */
  extraTables?: Table[];
  /** Share of all cores (0–1) that processes not started by the benchmark used while it ran. */
  othersCpuShare?: number;
}

const kb = (value: number): string => formatMiB(value * 1024);

function latencyRow(label: string, s: Summary, errors: number): string[] {
  return [label, String(s.n), formatMs(s.p50), formatMs(s.p90), formatMs(s.p99), formatMs(s.mean), formatMs(s.min), formatMs(s.max), String(errors)];
}

export function latencySection(r: LatencyResult): Section {
  // The target is "at low load": the paced client, which the machine keeps up with.
  const low = r.paced ?? { corral: r.corral, naive: r.naive, thinkMs: 0, requests: r.requests };
  const vsNaive = ratio(low.naive.p50, low.corral.p50);
  const ratioRow = (label: string, naive: Summary, corral: Summary): string[] => [
    label,
    '',
    formatRatio(ratio(naive.p50, corral.p50)),
    formatRatio(ratio(naive.p90, corral.p90)),
    formatRatio(ratio(naive.p99, corral.p99)),
    formatRatio(ratio(naive.mean, corral.mean)),
  ];
  const rows = [
    latencyRow('corral, back to back (router → worker → warm sandbox)', r.corral, r.corralErrors),
    latencyRow('naive, back to back (express + `node -e` per request)', r.naive, r.naiveErrors),
    ratioRow('naive ÷ corral, back to back', r.naive, r.corral),
  ];
  if (r.paced) {
    rows.push(
      latencyRow(`corral, ${r.paced.thinkMs} ms between requests`, r.paced.corral, 0),
      latencyRow(`naive, ${r.paced.thinkMs} ms between requests`, r.paced.naive, 0),
      ratioRow(`naive ÷ corral, ${r.paced.thinkMs} ms between requests`, r.paced.naive, r.paced.corral),
    );
  }
  return {
    id: 'latency',
    title: '1. Hello-world latency at low load',
    method: [
      `One client, sequential, keep-alive: \`{"code":"console.log(\\"hello\\")"}\` sent ${r.requests} times through the router ` +
        `(after ${r.warmup} warm-up requests), each one as soon as the previous answer arrived. The baseline is a naive express ` +
        'server that spawns `node -e <code>` of the same sandbox runtime per request and answers its stdout. ' +
        `Blocks of ${r.blockSize} corral and ${r.blockSize} naive requests alternate, so drift hits both alike. ` +
        'Latency is the client-side round trip (request sent → whole answer read); percentiles over all requests.',
      ...(r.paced
        ? [
            `Then the same client pausing ${r.paced.thinkMs} ms after each answer, ${r.paced.requests} requests each, corral and naive alternating. ` +
              'Back to back is not low load for corral: every execution costs a sandbox boot (scenario 2), so one client that never pauses ' +
              'keeps both cores busy booting replacements, and its next request waits for a core. The targets are checked on the paced run.',
          ]
        : []),
    ],
    tables: [{ headers: ['', 'requests', 'p50', 'p90', 'p99', 'mean', 'min', 'max', 'errors'], rows }],
    checks: [
      { target: `p50 ≤ ${TARGETS.latencyP50Ms} ms (low load)`, measured: formatMs(low.corral.p50), met: atMost(low.corral.p50, TARGETS.latencyP50Ms) },
      { target: `≥ ${TARGETS.latencyVsNaive}× better than naive (p50, low load)`, measured: formatRatio(vsNaive), met: atLeast(vsNaive, TARGETS.latencyVsNaive) },
    ],
    notes: [],
  };
}

function rateRow(label: string, rates: readonly number[]): string[] {
  const s = summarize(rates);
  return [label, String(s.n), formatRate(s.p50), formatRate(s.iqr), formatRate(s.min), formatRate(s.max)];
}

export function percent(value: number | null): string {
  return value === null || !Number.isFinite(value) ? 'n/a' : `${Math.round(value * 100)} %`;
}

/** Where the CPU went, per execution: each component, what no component explains, and the machine's total. */
export function cpuTable(label: string, account: CpuAccount, cores: number): Table {
  const known = account.perExecutionMs.reduce((sum, [, ms]) => (Number.isFinite(ms) ? sum + ms : sum), 0);
  const rows = account.perExecutionMs.map(([name, ms]) => [name, formatMs(ms), percent(ratio(ms, account.machinePerExecutionMs))]);
  rows.push(['other (kernel, interrupts, processes not listed)', formatMs(account.machinePerExecutionMs - known), percent(ratio(account.machinePerExecutionMs - known, account.machinePerExecutionMs))]);
  for (const [name, ms] of [
    ['of that: interrupts and softirq (/proc/stat)', account.irqPerExecutionMs],
    ["of that: the kernel's own threads (kworkers, ksoftirqd…)", account.kernelThreadsPerExecutionMs],
  ] as const) {
    if (ms !== undefined) rows.push([name, formatMs(ms), percent(ratio(ms, account.machinePerExecutionMs))]);
  }
  rows.push([`all ${cores} cores (/proc/stat), ${percent(account.busyShare)} busy`, formatMs(account.machinePerExecutionMs), '100 %']);
  return { headers: [`${label} (${account.executions} in the windows)`, 'CPU per execution', 'share'], rows };
}

export function throughputSection(r: ThroughputResult, cores: number): Section {
  const corral = median(r.corralRates);
  const bare = median(r.bareRates);
  const overall = ratio(corral, bare);
  const perRound = r.corralRates.map((c, i) => ratio(c, r.bareRates[i] ?? Number.NaN)).filter((x): x is number => x !== null);
  const errors = Object.entries(r.corralErrors);
  return {
    id: 'throughput',
    title: '2. Sustained throughput at saturation',
    method: [
      `${r.clients} keep-alive clients, each sending hello worlds back to back, against a stack of ${r.slots} slots; ` +
        `the bare rate keeps ${r.bareConcurrency} \`node -e 0\` processes of the sandbox runtime running at once (one per core), ` +
        'spawned by the harness and counted when they exit. ' +
        `${r.rounds} rounds of ${r.roundSeconds} s each (after ${r.warmupSeconds} s of warm-up per round), corral and bare alternating ` +
        '(corral first in odd rounds, bare first in even ones); ' +
        'the rate of a round counts what completed inside its window. Figures are the median over rounds and the IQR (p75 − p25) across rounds.',
    ],
    tables: [
      {
        headers: ['', 'rounds', 'median', 'IQR', 'min', 'max'],
        rows: [
          rateRow('corral executions answered `ok`', r.corralRates),
          rateRow(`bare \`node -e 0\` (${r.bareConcurrency} at once)`, r.bareRates),
          [
            'corral ÷ bare',
            String(perRound.length),
            formatRatio(overall),
            perRound.length > 0 ? formatRatio(summarize(perRound).iqr) : 'n/a',
            perRound.length > 0 ? formatRatio(Math.min(...perRound)) : 'n/a',
            perRound.length > 0 ? formatRatio(Math.max(...perRound)) : 'n/a',
          ],
        ],
      },
    ],
    checks: [{ target: `≥ ${TARGETS.throughputRatio} × the bare spawn rate`, measured: formatRatio(overall), met: atLeast(overall, TARGETS.throughputRatio) }],
    notes: [
      ...(errors.length > 0 ? [`Answers other than 200 \`ok\` (not counted): ${errors.map(([k, v]) => `${k} × ${v}`).join(', ')}.`] : []),
      'Where the CPU went inside the measuring windows, per completed execution (from /proc/<pid>/stat in clock ticks, so ±10 ms per ' +
        "window and component; a process's reaped children count once they have been waited for, which matches the executions " +
        "completed in the window; the sandboxes' cgroups count in ns when the worker gives them cgroups). *Other* is what no listed " +
        'process accounts for: kernel threads (namespaces and cgroups torn down in the background, say), interrupts, and CPU of ' +
        'processes that ended without being waited for by a listed one. Two of its parts are measured on their own: the interrupt and ' +
        "softirq time of /proc/stat (the loopback network's packets are processed there), and the kernel's own threads (children of " +
        'kthreadd, those alive at both ends of a window):',
    ],
    extraTables: [cpuTable('corral', r.corralCpu, cores), cpuTable('bare `node -e 0`', r.bareCpu, cores)],
  };
}

export function bootSection(r: BootResult): Section {
  const cpuRows: string[][] = [];
  const memRows: string[][] = [];
  const checks: TargetCheck[] = [];
  for (const v of r.variants) {
    const name = `warm sandbox${r.variants.length > 1 || v.label !== 'default' ? ` (${v.label})` : ''}`;
    cpuRows.push([
      `${name}: booted, waiting`,
      String(v.samples),
      formatMs(v.readyMs.p50),
      formatMs(v.cpuMs.p50),
      formatMs(v.cpuMs.iqr),
      formatMs(v.mainThreadCpuMs.p50),
      formatRatio(ratio(v.cpuMs.p50, r.bareCpuMs.p50)),
    ]);
    if (v.launcherCpuMs) cpuRows.push(['  + its launcher (corral-spawn, and a jail\'s processes)', String(v.samples), '', formatMs(v.launcherCpuMs.p50), formatMs(v.launcherCpuMs.iqr), '', '']);
    memRows.push([
      `${name}: booted, waiting`,
      kb(v.rssKb.p50),
      kb(v.rssKb.iqr),
      kb(v.rssAnonKb.p50),
      kb(v.rssFileKb.p50),
      v.pssKb ? kb(v.pssKb.p50) : 'n/a',
      formatRatio(ratio(v.rssKb.p50, r.idleRssKb.p50)),
    ]);
    if (v.launcherRssKb) memRows.push(["  + its launcher (corral-spawn, and a jail's processes)", kb(v.launcherRssKb.p50), kb(v.launcherRssKb.iqr), '', '', '', '']);
    const rss = ratio(v.rssKb.p50, r.idleRssKb.p50);
    checks.push({
      target: `warm sandbox${r.variants.length > 1 ? ` (${v.label})` : ''} RSS ≤ ${TARGETS.bootRssRatio} × idle bare node`,
      measured: formatRatio(rss),
      met: atMost(rss, TARGETS.bootRssRatio),
    });
  }
  cpuRows.push(['`node -e 0`: whole life, exit included', String(r.bareCpuMs.n), formatMs(r.bareWallMs.p50), formatMs(r.bareCpuMs.p50), formatMs(r.bareCpuMs.iqr), '', '1.00×']);
  cpuRows.push(['idle bare node: booted, waiting', String(r.idleCpuMs.n), '', formatMs(r.idleCpuMs.p50), formatMs(r.idleCpuMs.iqr), '', formatRatio(ratio(r.idleCpuMs.p50, r.bareCpuMs.p50))]);
  memRows.push([
    'idle bare node `node -e "setInterval(()=>{},1e9)"`',
    kb(r.idleRssKb.p50),
    kb(r.idleRssKb.iqr),
    kb(r.idleRssAnonKb.p50),
    kb(r.idleRssFileKb.p50),
    r.idlePssKb ? kb(r.idlePssKb.p50) : 'n/a',
    '1.00×',
  ]);
  memRows.push(['`node -e 0` peak (maxrss)', kb(r.bareMaxRssKb.p50), kb(r.bareMaxRssKb.iqr), '', '', '', formatRatio(ratio(r.bareMaxRssKb.p50, r.idleRssKb.p50))]);
  return {
    id: 'boot',
    title: '3. Sandbox boot: CPU and memory of one warm sandbox',
    method: [
      `${r.samples} samples of each, one process at a time, nothing else running. A warm sandbox is a \`Sandbox\` from @corral/sandbox ` +
        '(corral-spawn → sandbox runtime with `--permission`, the bootstrap, the heap limit and the baseline rlimits the worker uses), ' +
        `booted and waiting for its job; it and the idle bare node are sampled ${r.sampleAfterMs} ms after they were started. ` +
        'CPU of a live process is the sum of /proc/<pid>/task/*/schedstat (every thread, ns); `node -e 0` is measured over its whole life ' +
        '(user + system of every thread from wait4 through corral-spawn, exit included). Resident memory is VmRSS from /proc/<pid>/status ' +
        '(RssAnon: private heap and stacks; RssFile: mapped binary pages, shared between all sandboxes on a host; PSS from smaps_rollup). ' +
        'Figures are medians; IQR = p75 − p25 across samples.',
      `Sandbox variants: ${r.variants.map((v) => `**${v.label}**${v.description ? ` (${v.description})` : ''}`).join(', ')}.`,
    ],
    tables: [
      { headers: ['process', 'samples', 'wall to ready / exit', 'CPU p50', 'CPU IQR', 'main thread CPU', '÷ `node -e 0` CPU'], rows: cpuRows },
      { headers: ['process', 'VmRSS p50', 'VmRSS IQR', 'RssAnon', 'RssFile', 'PSS', '÷ idle bare RSS'], rows: memRows },
    ],
    checks,
    notes: [],
  };
}

export function overheadSection(r: OverheadResult): Section {
  const diff = r.router.p50 - r.direct.p50;
  return {
    id: 'overhead',
    title: '4. Router overhead',
    method: [
      `The same hello world ${r.requests} times directly to a worker and ${r.requests} times through the router (after ${r.warmup} warm-up ` +
        'requests of each), one at a time, direct and router requests alternating. Before each request the harness waits until every slot ' +
        'is idle again, so that no sandbox boots in the background of either. For a direct request the harness first claims a lease with ' +
        '`registry.queue.claim` (not timed, shown apart) and then POSTs to `http://<lease.ip>:<lease.port>/internal/v1/run` with ' +
        '`x-corral-token`; both clients use keep-alive connections. After each pair the same client POSTs `{}` to `/echo` of the naive ' +
        'server of scenario 1 (express in its own process, answering at once): one bare HTTP hop on this machine. Percentiles over all requests.',
    ],
    tables: [
      {
        headers: ['path', 'requests', 'p50', 'p90', 'p99', 'mean'],
        rows: [
          ['direct to the worker', String(r.direct.n), formatMs(r.direct.p50), formatMs(r.direct.p90), formatMs(r.direct.p99), formatMs(r.direct.mean)],
          ['through the router', String(r.router.n), formatMs(r.router.p50), formatMs(r.router.p90), formatMs(r.router.p99), formatMs(r.router.mean)],
          [
            'router − direct',
            '',
            formatMsDelta(r.router.p50 - r.direct.p50),
            formatMsDelta(r.router.p90 - r.direct.p90),
            formatMsDelta(r.router.p99 - r.direct.p99),
            formatMsDelta(r.router.mean - r.direct.mean),
          ],
          ['paired differences (router − direct)', String(r.pairedDiff.n), formatMsDelta(r.pairedDiff.p50), formatMsDelta(r.pairedDiff.p90), formatMsDelta(r.pairedDiff.p99), formatMsDelta(r.pairedDiff.mean)],
          ['(harness claimSlot, not in "direct")', String(r.claimMs.n), formatMs(r.claimMs.p50), formatMs(r.claimMs.p90), formatMs(r.claimMs.p99), formatMs(r.claimMs.mean)],
          ...(r.hop
            ? [['floor: one bare HTTP hop (express in another process, answering at once)', String(r.hop.n), formatMs(r.hop.p50), formatMs(r.hop.p90), formatMs(r.hop.p99), formatMs(r.hop.mean)]]
            : []),
        ],
      },
    ],
    checks: [{ target: `router adds ≤ ${TARGETS.routerOverheadMs} ms at p50`, measured: formatMsDelta(diff), met: atMost(diff, TARGETS.routerOverheadMs) }],
    notes: [
      ...(r.hop
        ? [
            'The router is one more HTTP hop (client → router → worker instead of client → worker) plus a claim in Redis. The floor row is that ' +
              `hop alone, measured beside the others: with the claim's round trip (the harness's claimSlot), the router cannot add less than about ` +
              `${formatMs(r.hop.p50 + r.claimMs.p50)} at p50 on this machine, before any work of its own.`,
          ]
        : []),
      ...(r.errors > 0 ? [`${r.errors} requests did not answer 200 \`ok\` and are not in the figures.`] : []),
    ],
  };
}

export function mixedSection(r: MixedResult): Section {
  const p99 = ratio(r.mixed.p99, r.clean.p99);
  const outcomes = Object.entries(r.hostileOutcomes).map(([k, v]) => `${k} × ${v}`).join(', ');
  return {
    id: 'mixed',
    title: '5. Mixed load: hostile programs among hello worlds',
    method: [
      `${r.concurrency} keep-alive clients send ${r.requests} requests in all, each pausing ${r.thinkMs} ms after every answer. In the mixed run every ` +
        `${r.hostileEvery}th request is \`while(true){}\` with \`cpuMs: ${r.hostileCpuMs}\` (the watchdog kills it); the clean run sends the same ` +
        "number of hello worlds only. The figures are the good (hello-world) requests' latencies; percentiles over all of them. The pause " +
        'keeps the clean run below saturation: every execution costs a whole sandbox boot, so on a small machine even one client sending ' +
        'back to back keeps the cores busy (scenario 2), and a saturated clean run would hide what the hostile programs do.',
    ],
    tables: [
      {
        headers: ['run', 'good requests', 'p50', 'p90', 'p99', 'max', 'errors', 'answered'],
        rows: [
          ['clean (hello worlds only)', String(r.clean.n), formatMs(r.clean.p50), formatMs(r.clean.p90), formatMs(r.clean.p99), formatMs(r.clean.max), String(r.cleanErrors), formatRate(r.cleanRate)],
          [`mixed (1 in ${r.hostileEvery} hostile)`, String(r.mixed.n), formatMs(r.mixed.p50), formatMs(r.mixed.p90), formatMs(r.mixed.p99), formatMs(r.mixed.max), String(r.mixedErrors), formatRate(r.mixedRate)],
          [
            'mixed ÷ clean',
            '',
            formatRatio(ratio(r.mixed.p50, r.clean.p50)),
            formatRatio(ratio(r.mixed.p90, r.clean.p90)),
            formatRatio(p99),
            formatRatio(ratio(r.mixed.max, r.clean.max)),
          ],
        ],
      },
    ],
    checks: [{ target: `good p99 with hostile load ≤ ${TARGETS.mixedP99Ratio} × clean`, measured: formatRatio(p99), met: atMost(p99, TARGETS.mixedP99Ratio) }],
    notes: [
      `Hostile requests ended as: ${outcomes || 'none sent'}${r.hostileMs ? `; their round trip p50 ${formatMs(r.hostileMs.p50)}, max ${formatMs(r.hostileMs.max)}` : ''}.`,
    ],
  };
}
