import { waitFor, type Stack } from '@corral/devkit';
import { execute, pool, startQuietStack } from './helpers';

/**
 * One slot and a queue deadline that is short (1.5 s) but longer than a sandbox boot: every
 * execution lands on the same slot, one after another.
 */
let stack: Stack;

beforeAll(async () => {
  stack = await startQuietStack(1, { CORRAL_QUEUE_TIMEOUT_MS: '1500' });
});
afterAll(async () => {
  await stack?.stop();
});

describe('a fresh sandbox for every execution', () => {
  it('leaves nothing behind: ten times in a row on one slot', async () => {
    for (let i = 0; i < 10; i += 1) {
      expect((await execute(stack.url, { code: 'globalThis.leak = 1; Object.prototype.polluted = true' })).body.status).toBe('ok');
      const { body } = await execute(stack.url, { code: 'console.log(typeof globalThis.leak, typeof ({}).polluted)' });
      expect(body.stdout).toBe('undefined undefined\n');
    }
  });

  it('answers 503 with Retry-After when the pool stays full past the queue deadline', async () => {
    await waitFor('the slot to be idle', async () => (await pool(stack.url)).idle === 1);
    const long = execute(stack.url, { code: 'setTimeout(() => console.log("done"), 3000)' });
    await waitFor('the slot to be busy', async () => (await pool(stack.url)).busy === 1);
    const extra = await Promise.all([1, 2, 3].map(() => execute(stack.url, { code: '1' })));
    for (const answer of extra) {
      expect(answer.status).toBe(503);
      expect(answer.headers.get('retry-after')).toBe('1');
      expect(answer.body).toMatchObject({ error: { code: 'no_capacity' } });
    }
    expect((await long).body.stdout).toBe('done\n');
  });
});
