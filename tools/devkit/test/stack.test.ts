import { randomLoopbackBase, startStack } from '../src';

describe('the stack launcher', () => {
  it('a quiet service that dies at start ends the wait at once, and the error carries its last lines', async () => {
    // PORT is the router's alone: the router refuses it and exits with its configuration error (2); the others start.
    const error = await startStack({ slots: 1, loopbackBase: randomLoopbackBase(), output: 'ignore', env: { PORT: 'not-a-port' } }).then(
      () => new Error('the stack started'),
      (err: unknown) => err as Error,
    );
    expect(error.message).toMatch(/^router exited with code 2 before the pool was ready; its last lines:\n/);
    expect(error.message).toContain('PORT="not-a-port" must be a whole number');
    // Shorter than the readiness wait (60 s): a launcher that waited on would fail here.
  }, 30_000);
});
