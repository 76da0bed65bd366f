import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { sendError } from './answers';
import { playgroundRoutes } from './playground';

let dir: string;
const servers: Server[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'corral-playground-'));
  writeFileSync(join(dir, 'index.html'), '<meta name="corral-api-keys" content="{{API_KEYS}}"><script type="module" src="/playground.js"></script>');
  writeFileSync(join(dir, 'playground.js'), 'console.log("page")');
  writeFileSync(join(dir, 'playground.css'), 'body{}');
  // A file next to them that must never be served.
  writeFileSync(join(dir, 'secret.txt'), 'not for you');
});
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  rmSync(dir, { recursive: true, force: true });
});

/** The router's routes as app.ts registers them: the playground, then the JSON 404 for the rest. */
async function serve(options: { enabled: boolean; apiKeys?: boolean; dir?: string }): Promise<{ url: string; warnings: string[] }> {
  const warnings: string[] = [];
  const app = express();
  playgroundRoutes(app, { enabled: options.enabled, apiKeys: options.apiKeys ?? false, dir: options.dir ?? dir, warn: (m) => warnings.push(m) });
  app.use((_req, res) => sendError(res, { code: 'not_found' }));
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, warnings };
}

describe('the playground route', () => {
  it('serves the page, its script and its style with their content types', async () => {
    const { url } = await serve({ enabled: true });
    const page = await fetch(`${url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await page.text()).toContain('content="off"');
    const script = await fetch(`${url}/playground.js`);
    expect([script.status, script.headers.get('content-type'), await script.text()]).toEqual([200, 'text/javascript; charset=utf-8', 'console.log("page")']);
    const style = await fetch(`${url}/playground.css`);
    expect([style.status, style.headers.get('content-type')]).toEqual([200, 'text/css; charset=utf-8']);
  });

  it('tells the page when API keys are on', async () => {
    const { url } = await serve({ enabled: true, apiKeys: true });
    expect(await (await fetch(`${url}/`)).text()).toContain('content="on"');
  });

  it('serves nothing but its three paths: no other file of the folder, no way out of it', async () => {
    const { url } = await serve({ enabled: true });
    for (const path of ['/secret.txt', '/index.html', '/%2e%2e/package.json', '/..%2f..%2fetc%2fpasswd', '/playground.js/..%2fsecret.txt', '/playground.js%00.css', '/playground.js.map']) {
      const answer = await fetch(`${url}${path}`);
      expect([path, answer.status]).toEqual([path, 404]);
      expect(await answer.json()).toMatchObject({ error: { code: 'not_found' } });
    }
    expect((await fetch(`${url}/`, { method: 'POST' })).status).toBe(404);
    // fetch normalises dot segments before sending; a raw request sends them as written.
    for (const path of ['/../package.json', '/%2e%2e/package.json', '/../../../etc/passwd', '/./playground.js/../../package.json']) {
      expect([path, await rawStatus(url, path)]).toEqual([path, 404]);
    }
  });

  it('with CORRAL_PLAYGROUND=off, / is a 404 like any unknown path', async () => {
    const { url } = await serve({ enabled: false });
    const answer = await fetch(`${url}/`);
    expect(answer.status).toBe(404);
    expect(await answer.json()).toMatchObject({ error: { code: 'not_found' } });
    expect((await fetch(`${url}/playground.js`)).status).toBe(404);
  });

  it('not built: / answers 503 saying so, and the router warns once', async () => {
    const { url, warnings } = await serve({ enabled: true, dir: join(dir, 'missing') });
    const answer = await fetch(`${url}/`);
    expect(answer.status).toBe(503);
    expect(await answer.json()).toMatchObject({ error: { code: 'unavailable', message: expect.stringContaining('not built') } });
    expect(warnings).toHaveLength(1);
  });
});

/** The status of a GET sent with `path` exactly as written (no URL normalisation on the way). */
function rawStatus(url: string, path: string): Promise<number> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, path, method: 'GET' }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.once('error', reject);
    req.end();
  });
}
