// `npm start`: installs the Debian packages the stack needs (as root; otherwise says what to
// run), builds, then runs the stack launcher (tools/devkit) in this same process, so that a
// supervisor's signal or a SIGKILL to it reaches the launcher itself.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureSystemPackages } from './system.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
if (!ensureSystemPackages('start')) process.exit(1);
console.error('corral: building…');
const build = spawnSync(join(root, 'node_modules', '.bin', 'nx'), ['run-many', '-t', 'build', '--outputStyle=static'], {
  cwd: root,
  stdio: ['ignore', 'ignore', 'inherit'],
  env: { ...process.env, NX_DAEMON: process.env.NX_DAEMON ?? 'false' },
});
if (build.status !== 0) {
  console.error('corral: the build failed; run `npm run build` to see why');
  process.exit(1);
}
await import(join(root, 'tools', 'devkit', 'dist', 'start.js'));
