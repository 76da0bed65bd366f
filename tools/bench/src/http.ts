import { Agent, request, type IncomingHttpHeaders } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { FetchLike } from '@corral/client';
import { assertLoopbackUrl } from './loopback';

export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** Round trip: request started → whole answer read. */
  ms: number;
  /** performance.now() when the answer was complete. */
  endedAt: number;
}

interface Outgoing {
  method: string;
  data: Buffer | null;
  headers: Record<string, string>;
  timeoutMs: number;
  signal?: AbortSignal;
}

/**
 * A small load generator: HTTP/1.1 with keep-alive connections, loopback targets only. The
 * baselines POST through it directly; @corral/client goes through `fetch`, over the same
 * connections, so that both sides of a comparison pay for the same transport.
 */
export class HttpClient {
  private readonly agent = new Agent({ keepAlive: true, keepAliveMsecs: 1000, maxSockets: Infinity, maxFreeSockets: 256, scheduling: 'lifo' });

  post(url: string, body: string | Buffer, headers: Record<string, string> = {}, timeoutMs = 60_000): Promise<HttpAnswer> {
    const data = typeof body === 'string' ? Buffer.from(body) : body;
    return this.sendOnce(assertLoopbackUrl(url), { method: 'POST', data, headers: { 'content-type': 'application/json', ...headers }, timeoutMs });
  }

  /** A fetch for @corral/client over these connections. */
  readonly fetch: FetchLike = async (url, init) => {
    const data = init.body === undefined ? null : Buffer.from(init.body);
    const answer = await this.sendOnce(assertLoopbackUrl(url), { method: init.method, data, headers: init.headers, timeoutMs: 60_000, signal: init.signal });
    const get = (name: string): string | null => {
      const value = answer.headers[name.toLowerCase()];
      return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
    };
    return { status: answer.status, headers: { get }, text: async () => answer.body.toString('utf8') };
  };

  /**
   * A kept-alive connection the server closed as idle just as it was reused fails before the
   * server read anything: that request, and only that one, is sent again on a new connection.
   */
  private sendOnce(target: URL, out: Outgoing): Promise<HttpAnswer> {
    return this.send(target, out).catch((err: Error & { reusedSocket?: boolean; code?: string }) => {
      if (err.reusedSocket && (err.code === 'ECONNRESET' || err.message === 'socket hang up')) return this.send(target, out);
      throw err;
    });
  }

  private send(target: URL, out: Outgoing): Promise<HttpAnswer> {
    const { data, timeoutMs } = out;
    return new Promise((resolve, reject) => {
      let responded = false;
      const started = performance.now();
      const req = request(
        target,
        {
          method: out.method,
          agent: this.agent,
          headers: { ...out.headers, ...(data ? { 'content-length': String(data.length) } : {}) },
          timeout: timeoutMs,
          ...(out.signal ? { signal: out.signal } : {}),
        },
        (res) => {
          responded = true;
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.once('error', reject);
          res.once('end', () => {
            const endedAt = performance.now();
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), ms: endedAt - started, endedAt });
          });
        },
      );
      req.once('timeout', () => req.destroy(new Error(`no answer from ${target.host} within ${timeoutMs} ms`)));
      req.once('error', (err: Error & { reusedSocket?: boolean }) => {
        if (!responded) err.reusedSocket = req.reusedSocket;
        reject(err);
      });
      req.end(data ?? undefined);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/**
 * Runs `concurrency` clients, each calling `task` back to back while `more(seq)` says so;
 * `seq` numbers the calls in the order they are issued (0, 1, 2… across all clients).
 */
export async function closedLoop(concurrency: number, more: (seq: number) => boolean, task: (seq: number) => Promise<void>): Promise<void> {
  let next = 0;
  const client = async (): Promise<void> => {
    for (;;) {
      const seq = next;
      if (!more(seq)) return;
      next += 1;
      await task(seq);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, client));
}
