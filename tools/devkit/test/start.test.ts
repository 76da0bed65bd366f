import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const start = join(__dirname, '..', 'dist', 'start.js');

describe('npm start launcher input checks', () => {
  it.each([
    [{ PORT: 'http' }, /PORT="http" must be a whole number from 1 to 65535/],
    [{ CORRAL_SLOTS: '0' }, /CORRAL_SLOTS="0" must be a whole number from 1/],
    [{ CORRAL_SLOTS: '-3' }, /CORRAL_SLOTS="-3"/],
  ])('refuses %j with exit 2 and a clear message, starting nothing', (env, message) => {
    const result = spawnSync(process.execPath, [start], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 10_000 });
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).not.toContain('starting');
  });
});
