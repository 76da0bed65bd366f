import { makePlan } from './plan';

describe('makePlan', () => {
  it('follows the issue: 4 slots, 8 clients, one bare process per core, 1 in 10 hostile with cpuMs 200', () => {
    const plan = makePlan(false, 2);
    expect(plan.slots).toBe(4);
    expect(plan.throughput).toMatchObject({ clients: 8, bareConcurrency: 2 });
    expect(plan.throughput.rounds * plan.throughput.roundSeconds).toBeGreaterThanOrEqual(10);
    expect(plan.latency.requests).toBe(300);
    expect(plan.mixed).toMatchObject({ hostileEvery: 10, hostileCpuMs: 200 });
    expect(plan.mixed.concurrency).toBeLessThan(plan.slots);
    expect(plan.mixed.thinkMs).toBeGreaterThan(0);
    expect(makePlan(false, 16).throughput.bareConcurrency).toBe(16);
  });

  it('makes the quick run smaller in every scenario', () => {
    const full = makePlan(false, 2);
    const quick = makePlan(true, 2);
    expect(quick.latency.requests).toBeLessThan(full.latency.requests);
    expect(quick.overhead.requests).toBeLessThan(full.overhead.requests);
    expect(quick.mixed.requests).toBeLessThan(full.mixed.requests);
    expect(quick.boot.samples).toBeLessThan(full.boot.samples);
    expect(quick.throughput.rounds * quick.throughput.roundSeconds).toBeLessThan(full.throughput.rounds * full.throughput.roundSeconds);
  });

  it('latency blocks divide the request count, so corral and naive get the same number', () => {
    for (const quick of [false, true]) {
      const { requests, blockSize } = makePlan(quick, 2).latency;
      expect(requests % blockSize).toBe(0);
    }
  });
});
