import { Cleanup } from './cleanup';

describe('Cleanup', () => {
  it('stops everything newest first, and only once', async () => {
    const cleanup = new Cleanup();
    const order: string[] = [];
    cleanup.add('redis', () => order.push('redis'));
    cleanup.add('stack', async () => {
      await Promise.resolve();
      order.push('stack');
    });
    cleanup.add('naive', () => order.push('naive'));
    await cleanup.runAll();
    await cleanup.runAll();
    expect(order).toEqual(['naive', 'stack', 'redis']);
    expect(cleanup.size).toBe(0);
  });

  it('skips what its owner already stopped', async () => {
    const cleanup = new Cleanup();
    const stopped: string[] = [];
    const remove = cleanup.add('sandbox', () => stopped.push('sandbox'));
    remove();
    await cleanup.runAll();
    expect(stopped).toEqual([]);
  });

  it('reports a failing stop and goes on with the others', async () => {
    const cleanup = new Cleanup();
    const stopped: string[] = [];
    const messages: string[] = [];
    cleanup.add('first', () => stopped.push('first'));
    cleanup.add('broken', () => {
      throw new Error('boom');
    });
    await cleanup.runAll((m) => messages.push(m));
    expect(stopped).toEqual(['first']);
    expect(messages).toEqual(['stopping broken failed: boom']);
  });

  it('gives up on a stop that hangs, after its timeout', async () => {
    const cleanup = new Cleanup();
    const messages: string[] = [];
    cleanup.add('hangs', () => new Promise(() => undefined));
    await cleanup.runAll((m) => messages.push(m), 10);
    expect(messages).toEqual(['stopping hangs failed: timed out after 10 ms']);
  });
});
