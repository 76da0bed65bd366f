// `npm run netprov -- <args>`: the netprov command line, built first if its sources changed
// (tsc --build is incremental: about a second when nothing changed).
import { execFileSync, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
execFileSync(process.execPath, [tsc, '--build', join(root, 'apps', 'netprov', 'tsconfig.lib.json')], { stdio: 'inherit' });
const result = spawnSync(process.execPath, [join(root, 'apps', 'netprov', 'dist', 'main.js'), ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(result.status ?? 1);
