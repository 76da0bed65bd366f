import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '@corral/devkit';
import { DEPLOY_DIR } from './deploy-files';

/**
 * `systemd-analyze verify` on deploy/systemd's units, pointed at this checkout instead of
 * /opt/corral (so that it also checks each ExecStart names an executable). Unknown options,
 * bad values and missing dependencies all show in its output, which must be empty.
 */
const UNITS_DIR = join(DEPLOY_DIR, 'systemd');
const units = readdirSync(UNITS_DIR).filter((f) => f.endsWith('.service') || f.endsWith('.target'));
const hasAnalyze = spawnSync('systemd-analyze', ['--version'], { stdio: 'ignore' }).status === 0;
if (!hasAnalyze) console.warn('systemd.test.ts: systemd-analyze is not installed (Debian package systemd): skipping `systemd-analyze verify`');
const maybe = hasAnalyze ? it : it.skip;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'corral-units-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function verify(files: Record<string, string>): string {
  for (const f of readdirSync(dir)) rmSync(join(dir, f));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text.replaceAll('/opt/corral', REPO_ROOT));
  const result = spawnSync('systemd-analyze', ['verify', ...Object.keys(files).map((f) => join(dir, f))], { encoding: 'utf8', timeout: 30_000 });
  return `${result.stdout}${result.stderr}`.trim();
}

it('ships a unit per service and a target that wants them all', () => {
  expect(units.sort()).toEqual(['corral-netprov.service', 'corral-router.service', 'corral-watchdog.service', 'corral-worker.service', 'corral.target']);
  const target = readFileSync(join(UNITS_DIR, 'corral.target'), 'utf8');
  for (const unit of units.filter((u) => u.endsWith('.service'))) expect(target).toContain(unit);
});

maybe('systemd-analyze verify finds nothing wrong in any unit', () => {
  expect(verify(Object.fromEntries(units.map((u) => [u, readFileSync(join(UNITS_DIR, u), 'utf8')])))).toBe('');
});

maybe('the check can fail: an unknown option and a missing program are reported', () => {
  const router = readFileSync(join(UNITS_DIR, 'corral-router.service'), 'utf8');
  const output = verify({ 'corral-router.service': router.replace('NoNewPrivileges=yes', 'NoNewPrivilege=yes').replace('tools/scripts/pinned', 'tools/scripts/absent') });
  expect(output).toMatch(/Unknown key 'NoNewPrivilege'/);
  expect(output).toMatch(/absent is not executable/);
});

it('the hardening each unit keeps: no new privileges everywhere, a read-only system, only the capabilities each needs', () => {
  const unit = (name: string): string => readFileSync(join(UNITS_DIR, name), 'utf8');
  for (const name of units.filter((u) => u.endsWith('.service'))) {
    expect([name, unit(name)]).toEqual([name, expect.stringMatching(/^NoNewPrivileges=yes$/m)]);
    expect([name, unit(name)]).toEqual([name, expect.stringMatching(/^ProtectSystem=strict$/m)]);
    expect([name, unit(name)]).toEqual([name, expect.stringMatching(/^PrivateTmp=yes$/m)]);
  }
  expect(unit('corral-router.service')).toMatch(/^CapabilityBoundingSet=$/m);
  expect(unit('corral-router.service')).toMatch(/^DynamicUser=yes$/m);
  expect(unit('corral-worker.service')).toMatch(/^CapabilityBoundingSet=CAP_SETUID CAP_SETGID CAP_KILL$/m);
  expect(unit('corral-watchdog.service')).toMatch(/^CapabilityBoundingSet=CAP_KILL$/m);
});
