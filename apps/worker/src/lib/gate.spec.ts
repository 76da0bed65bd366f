import { concurrencyGate } from './gate';

it('runs at most the limit at once, in order, and survives failures', async () => {
  const gate = concurrencyGate(2);
  let active = 0;
  let peak = 0;
  const order: number[] = [];
  const task = (n: number) => async () => {
    active += 1;
    peak = Math.max(peak, active);
    await new Promise((r) => setTimeout(r, 5));
    active -= 1;
    order.push(n);
    if (n === 1) throw new Error('one');
    return n;
  };
  const results = await Promise.allSettled([1, 2, 3, 4, 5].map((n) => gate(task(n))));
  expect(peak).toBe(2);
  expect(results.map((r) => r.status)).toEqual(['rejected', 'fulfilled', 'fulfilled', 'fulfilled', 'fulfilled']);
  expect(order.slice(0, 2).sort()).toEqual([1, 2]);
});
