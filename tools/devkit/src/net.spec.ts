import { createServer } from 'node:net';
import { FREE_PORT_RANGE, freePort, randomLoopbackBase, randomPrefix, waitFor } from './net';

describe('test networking helpers', () => {
  it('finds a port that can be bound, below the ephemeral range (where no outgoing connection takes it meanwhile)', async () => {
    const port = await freePort();
    expect(port).toBeGreaterThanOrEqual(FREE_PORT_RANGE.min);
    expect(port).toBeLessThanOrEqual(FREE_PORT_RANGE.max);
    const server = createServer();
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', resolve));
    await new Promise((r) => server.close(r));
  });

  it('hands out loopback bases and prefixes that differ', () => {
    const bases = new Set(Array.from({ length: 50 }, randomLoopbackBase));
    expect(bases.size).toBeGreaterThan(40);
    for (const base of bases) expect(base).toMatch(/^127\.(1\d\d|2[0-3]\d)\.\d{1,3}\.1$/);
    expect(randomPrefix('x')).toMatch(/^x-[0-9a-f]{10}$/);
  });

  it('waits for a value and says what it waited for when it times out', async () => {
    let n = 0;
    expect(await waitFor('n to reach 3', () => (++n >= 3 ? n : null), { intervalMs: 1 })).toBe(3);
    await expect(waitFor('never', () => false, { timeoutMs: 30, intervalMs: 5 })).rejects.toThrow(/timed out after 30 ms waiting for never/);
  });
});
