import { CorralClient } from '@corral/client';
import { closedLoop, HttpClient } from './http';

describe('closedLoop', () => {
  it('numbers the calls in issue order and never runs more than `concurrency` at once', async () => {
    const seen: number[] = [];
    let running = 0;
    let most = 0;
    await closedLoop(
      3,
      (seq) => seq < 10,
      async (seq) => {
        running += 1;
        most = Math.max(most, running);
        seen.push(seq);
        await new Promise((resolve) => setImmediate(resolve));
        running -= 1;
      },
    );
    expect(seen.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(most).toBe(3);
  });
});

describe('HttpClient', () => {
  it('refuses to send anything beyond 127.0.0.0/8, before any connection is made', () => {
    const client = new HttpClient();
    expect(() => client.post('http://10.0.0.1:8080/v1/executions', '{}')).toThrow(/127\.0\.0\.0\/8/);
    client.close();
  });

  it('refuses the same as a fetch', async () => {
    const client = new HttpClient();
    await expect(client.fetch('http://10.0.0.1:8080/healthz', { method: 'GET', headers: {}, signal: new AbortController().signal })).rejects.toThrow(/127\.0\.0\.0\/8/);
    client.close();
  });
});

describe('HttpClient against a loopback server', () => {
  it('sends a request again, once, when a kept-alive connection dies before any answer', async () => {
    const { createServer } = await import('node:http');
    const seen: string[] = [];
    const perSocket = new WeakMap<object, number>();
    const server = createServer((req, res) => {
      const n = (perSocket.get(req.socket) ?? 0) + 1;
      perSocket.set(req.socket, n);
      seen.push(`${req.url} #${n}`);
      // The second request on a connection finds it closed, as when the server's idle timeout fires just then.
      if (n === 2) return void req.socket.destroy();
      req.resume();
      req.once('end', () => res.end('ok'));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    const client = new HttpClient();
    try {
      expect((await client.post(`http://127.0.0.1:${port}/a`, '{}')).status).toBe(200);
      const second = await client.post(`http://127.0.0.1:${port}/b`, '{}');
      expect(second.status).toBe(200);
      expect(second.body.toString()).toBe('ok');
      expect(seen).toEqual(['/a #1', '/b #2', '/b #1']);
    } finally {
      client.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('does not send it again when the answer had begun', async () => {
    const { createServer } = await import('node:http');
    let requests = 0;
    const server = createServer((_req, res) => {
      requests += 1;
      res.writeHead(200, { 'content-length': '100' });
      res.write('partial');
      setImmediate(() => res.socket?.destroy());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    const client = new HttpClient();
    try {
      await expect(client.post(`http://127.0.0.1:${port}/`, '{}')).rejects.toThrow();
      expect(requests).toBe(1);
    } finally {
      client.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('HttpClient.fetch under @corral/client', () => {
  it('carries method, headers and body, and gives back status, headers and text over the same connection', async () => {
    const { createServer } = await import('node:http');
    const seen: { method?: string; url?: string; type?: string; auth?: string; body: string; socket: unknown }[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (d: string) => (body += d));
      req.on('end', () => {
        seen.push({ method: req.method, url: req.url, type: req.headers['content-type'], auth: req.headers.authorization, body, socket: req.socket });
        if (req.url === '/v1/pool') {
          res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' });
          return void res.end(JSON.stringify({ error: { code: 'unavailable', message: 'Redis' } }));
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ id: 'x', status: 'ok', stdout: 'hello\n' }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    const http = new HttpClient();
    const corral = new CorralClient({ baseUrl: `http://127.0.0.1:${port}`, apiKey: 'k'.repeat(16), fetch: http.fetch });
    try {
      expect(await corral.execute({ code: 'console.log("hello")' })).toMatchObject({ status: 'ok', stdout: 'hello\n' });
      await expect(corral.pool()).rejects.toMatchObject({ code: 'unavailable', httpStatus: 503, retryAfterMs: 1000 });
      expect(seen.map((r) => ({ method: r.method, url: r.url, type: r.type, auth: r.auth, body: r.body }))).toEqual([
        { method: 'POST', url: '/v1/executions', type: 'application/json', auth: `Bearer ${'k'.repeat(16)}`, body: '{"code":"console.log(\\"hello\\")"}' },
        { method: 'GET', url: '/v1/pool', type: undefined, auth: `Bearer ${'k'.repeat(16)}`, body: '' },
      ]);
      expect(seen[0]!.socket).toBe(seen[1]!.socket); // kept alive
    } finally {
      http.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
