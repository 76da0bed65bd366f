import { ForeignCpu, inTree, type ProcSample } from './foreign-load';

const scan = (entries: [number, number, number][]): Map<number, ProcSample> => new Map(entries.map(([pid, ppid, ticks]) => [pid, { ppid, ticks }]));

describe('inTree', () => {
  const parents = new Map([
    [10, 1],
    [20, 10],
    [30, 20],
    [40, 1],
  ]);
  const ppidOf = (pid: number): number | undefined => parents.get(pid);

  it('follows parent links up to the root', () => {
    expect(inTree(30, 10, ppidOf)).toBe(true);
    expect(inTree(10, 10, ppidOf)).toBe(true);
    expect(inTree(40, 10, ppidOf)).toBe(false);
  });

  it('stops on a loop instead of spinning', () => {
    const loop = new Map([
      [5, 6],
      [6, 5],
    ]);
    expect(inTree(5, 10, (pid) => loop.get(pid))).toBe(false);
  });
});

describe('ForeignCpu', () => {
  const harness = 100;

  it('counts only what others used after the first scan', () => {
    const foreign = new ForeignCpu(harness);
    foreign.ingest(scan([[harness, 1, 500], [200, 1, 1000]]));
    expect(foreign.totalTicks).toBe(0);
    foreign.ingest(scan([[harness, 1, 900], [200, 1, 1030]]));
    expect(foreign.totalTicks).toBe(30);
  });

  it("leaves out the harness's descendants and the kernel's threads", () => {
    const foreign = new ForeignCpu(harness);
    foreign.ingest(scan([[harness, 1, 0], [101, harness, 0], [102, 101, 0], [2, 0, 0], [50, 2, 0]]));
    foreign.ingest(scan([[harness, 1, 10], [101, harness, 500], [102, 101, 700], [2, 0, 5], [50, 2, 80]]));
    expect(foreign.totalTicks).toBe(0);
  });

  it('counts a chain of processes that ends between two scans once, through the parent that reaped it', () => {
    const foreign = new ForeignCpu(harness);
    // bash 200 runs npm 300, which runs node 400.
    foreign.ingest(scan([[200, 1, 10], [300, 200, 5], [400, 300, 20]]));
    foreign.ingest(scan([[200, 1, 10], [300, 200, 5], [400, 300, 120]]));
    expect(foreign.totalTicks).toBe(100);
    // node used 30 more and ended; npm reaped it and ended too; bash reaped npm: 10 + (5 + 150).
    foreign.ingest(scan([[200, 1, 165]]));
    expect(foreign.totalTicks).toBe(130);
  });

  it('counts a short-lived process it never saw, through its parent', () => {
    const foreign = new ForeignCpu(harness);
    foreign.ingest(scan([[200, 1, 10]]));
    foreign.ingest(scan([[200, 1, 50]]));
    expect(foreign.totalTicks).toBe(40);
  });

  it('does not count a drop as negative work', () => {
    const foreign = new ForeignCpu(harness);
    foreign.ingest(scan([[200, 1, 100]]));
    foreign.ingest(scan([[200, 1, 40]]));
    foreign.ingest(scan([[200, 1, 60]]));
    expect(foreign.totalTicks).toBe(20);
  });
});
