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
