import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Express } from 'express';
import { sendError } from './answers';

/** One file of the playground, held in memory: the router serves these paths and no others. */
export interface PlaygroundAsset {
  body: Buffer;
  contentType: string;
  headers: Record<string, string>;
}

/** Where the built playground is: @corral/playground's dist (esbuild, at `npm run build`). */
export function playgroundDir(): string {
  // Resolves where the package is, imports nothing (the boundary rule reads any require as an import).
  // eslint-disable-next-line @nx/enforce-module-boundaries
  return join(dirname(require.resolve('@corral/playground/package.json')), 'dist');
}

/**
 * The page may load its own script and style and talk to this origin only: no CDN, no inline
 * script, no frames. CodeMirror writes its styles at run time, hence inline styles.
 */
const PAGE_POLICY = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

const COMMON = { 'x-content-type-options': 'nosniff', 'cache-control': 'no-cache' };

/**
 * The playground's files by URL path, read once from `dir`; null when it was not built. The page
 * is told whether the router asks for API keys (then it shows a key field).
 */
export function loadPlayground(dir: string, apiKeys: boolean): Map<string, PlaygroundAsset> | null {
  const files: [string, string, string][] = [
    ['/', 'index.html', 'text/html; charset=utf-8'],
    ['/playground.js', 'playground.js', 'text/javascript; charset=utf-8'],
    ['/playground.css', 'playground.css', 'text/css; charset=utf-8'],
  ];
  if (!files.every(([, name]) => existsSync(join(dir, name)))) return null;
  const assets = new Map<string, PlaygroundAsset>();
  for (const [path, name, contentType] of files) {
    let body = readFileSync(join(dir, name));
    if (name === 'index.html') body = Buffer.from(body.toString('utf8').replace('{{API_KEYS}}', apiKeys ? 'on' : 'off'));
    const headers = name === 'index.html' ? { ...COMMON, 'content-security-policy': PAGE_POLICY, 'referrer-policy': 'no-referrer' } : COMMON;
    assets.set(path, { body, contentType, headers });
  }
  return assets;
}

/**
 * `GET /` and the playground's two files, unless `CORRAL_PLAYGROUND=off`. Only these exact paths
 * are served, from memory: no other path can reach the file system. A router whose playground
 * was not built answers 503 at `/`, saying so.
 */
export function playgroundRoutes(app: Express, options: { enabled: boolean; apiKeys: boolean; dir?: string; warn: (message: string) => void }): void {
  if (!options.enabled) return;
  const dir = options.dir ?? playgroundDir();
  const assets = loadPlayground(dir, options.apiKeys);
  if (!assets) {
    options.warn(`the playground is not built (no ${dir}): GET / answers 503; npm run build builds it`);
    app.get('/', (_req, res) => sendError(res, { code: 'unavailable', message: 'The playground is not built on this router (npm run build).' }));
    return;
  }
  for (const [path, asset] of assets) {
    app.get(path, (_req, res) => {
      res.status(200).set(asset.headers).type(asset.contentType).send(asset.body);
    });
  }
}
