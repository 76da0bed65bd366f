// Bundles the playground (CodeMirror 6 and @corral/client) into dist/ with esbuild, so that the
// router serves it as static files and the page fetches nothing from anywhere else.
//   node scripts/build.mjs        (run by `nx build`, in libs/playground)
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { build } from 'esbuild';

rmSync('dist', { recursive: true, force: true });
mkdirSync('dist');
await build({
  entryPoints: ['web/main.ts'],
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['es2022'],
  platform: 'browser',
  // @corral/client from its TypeScript source, as everywhere else in the repository.
  conditions: ['@corral/source'],
  outfile: 'dist/playground.js',
  legalComments: 'linked',
  logLevel: 'warning',
});
copyFileSync('web/index.html', 'dist/index.html');
copyFileSync('web/playground.css', 'dist/playground.css');
