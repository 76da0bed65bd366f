import { runLoop } from './loop';

describe('runLoop', () => {
  it('ticks until aborted, survives a failing tick, and waits after each tick', async () => {
    const controller = new AbortController();
    const errors: unknown[] = [];
    const starts: number[] = [];
    let ticks = 0;
    const done = runLoop(
      20,
      controller.signal,
      async () => {
        starts.push(Date.now());
        ticks += 1;
        if (ticks === 2) throw new Error('tick 2 failed');
        if (ticks === 4) controller.abort();
      },
      (err) => errors.push(err),
    );
    await done;
    expect(ticks).toBe(4);
    expect(errors).toEqual([new Error('tick 2 failed')]);
    for (let i = 1; i < starts.length; i += 1) expect(starts[i]! - starts[i - 1]!).toBeGreaterThanOrEqual(15);
  });

  it('stops at once when aborted during the wait', async () => {
    const controller = new AbortController();
    let ticks = 0;
    const done = runLoop(60_000, controller.signal, async () => void (ticks += 1), () => undefined);
    await new Promise((r) => setTimeout(r, 20));
    controller.abort();
    await done;
    expect(ticks).toBe(1);
  });
});
