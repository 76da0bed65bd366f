import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ERROR_HEADER, STREAM_HEADER, type ControlMessage, type Job, type Lease } from '@corral/contracts';
import { StreamProxy, type LiveSink } from './stream-proxy';

/** A worker stand-in on loopback: each test says how it answers a live hand-over. */
let server: Server;
let answer: (req: IncomingMessage, res: ServerResponse, lines: string[]) => void;
let lease: Lease;
const proxy = new StreamProxy();

beforeAll(async () => {
  server = createServer((req, res) => {
    const lines: string[] = [];
    let pending = '';
    req.setEncoding('utf8');
    req.on('data', (text: string) => {
      pending += text;
      for (let nl = pending.indexOf('\n'); nl !== -1; nl = pending.indexOf('\n')) {
        lines.push(pending.slice(0, nl));
        pending = pending.slice(nl + 1);
      }
    });
    answer(req, res, lines);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  lease = { slotId: 'h:0', ip: '127.0.0.1', port: (server.address() as AddressInfo).port, token: 'tok' } as Lease;
});
afterAll(async () => {
  proxy.close();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const job = { code: '1' } as unknown as Job;

function recordingSink() {
  const seen: string[] = [];
  let control: ((message: ControlMessage) => void) | null = null;
  const sink: LiveSink = {
    started: (write) => {
      control = write;
      seen.push('started');
    },
    output: (stream, data) => {
      seen.push(`${stream}:${data}`);
      return true;
    },
    result: (result) => seen.push(`result:${result.status}`),
    error: (code) => seen.push(`error:${code}`),
  };
  return { sink, seen, control: () => control };
}

const run = (sink: LiveSink, stop = new AbortController().signal) => proxy.run(lease, job, { interactive: true, includeOutput: false }, 'r1', 5000, stop, sink);

describe('StreamProxy', () => {
  it('sends the job line and the stream header, relays chunks in order, then settles on the result', async () => {
    let firstLine: Record<string, unknown> | null = null;
    let header: string | undefined;
    answer = (req, res, lines) => {
      header = req.headers[STREAM_HEADER] as string;
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      res.write('{"type":"stdout","data":"a"}\n{"type":"stderr","da');
      setTimeout(() => {
        firstLine = JSON.parse(lines[0]!) as Record<string, unknown>;
        res.end('ta":"b"}\n{"type":"result","result":{"status":"ok"}}\n');
      }, 20);
    };
    const { sink, seen } = recordingSink();
    const attempt = await run(sink);
    expect(attempt).toEqual({ kind: 'answered', httpStatus: 200, executionStatus: 'ok' });
    expect(seen).toEqual(['started', 'stdout:a', 'stderr:b', 'result:ok']);
    expect(header).toBe('1');
    expect(firstLine).toMatchObject({ interactive: true, includeOutput: false, job: { code: '1' } });
  });

  it('writes control lines on the open request once the job runs', async () => {
    let received: string[] = [];
    answer = (_req, res, lines) => {
      received = lines;
      res.writeHead(200);
      res.write('{"type":"stdout","data":"?"}\n');
      const wait = setInterval(() => {
        if (lines.length < 2) return;
        clearInterval(wait);
        res.end('{"type":"result","result":{"status":"ok"}}\n');
      }, 5);
    };
    const rec = recordingSink();
    rec.sink.started = (write) => write({ type: 'stdin', data: 'x' });
    await run(rec.sink);
    expect(received.slice(1).map((l) => JSON.parse(l))).toEqual([{ type: 'stdin', data: 'x' }]);
  });

  it('a refusal before the start is not_started (retried elsewhere), with nothing sent to the sink', async () => {
    answer = (_req, res) => {
      res.writeHead(409, { [ERROR_HEADER]: 'slot_busy', 'content-type': 'application/json' });
      res.end('{"error":{"code":"slot_busy","message":"busy"}}');
    };
    const { sink, seen } = recordingSink();
    expect(await run(sink)).toMatchObject({ kind: 'not_started', slotDead: false });
    expect(seen).toEqual([]);
  });

  it('an answer cut after the start is a failure (the job may have run), and so is one that is not the protocol', async () => {
    answer = (_req, res) => {
      res.writeHead(200);
      res.write('{"type":"stdout","data":"a"}\n');
      setTimeout(() => res.destroy(), 20);
    };
    expect(await run(recordingSink().sink)).toEqual({ kind: 'failed', reason: 'the answer was cut' });
    answer = (_req, res) => {
      res.writeHead(200);
      res.write('not json\n');
    };
    expect(await run(recordingSink().sink)).toMatchObject({ kind: 'failed' });
  });

  it('stopping it cuts the hand-over at once: client_gone', async () => {
    let workerSawClose: () => void = () => undefined;
    const closed = new Promise<void>((resolve) => (workerSawClose = resolve));
    answer = (req, res) => {
      res.writeHead(200);
      res.write('{"type":"stdout","data":"a"}\n');
      req.once('close', () => workerSawClose());
    };
    const stop = new AbortController();
    const rec = recordingSink();
    rec.sink.output = () => {
      stop.abort();
      return true;
    };
    expect(await run(rec.sink, stop.signal)).toEqual({ kind: 'client_gone' });
    // The worker sees its connection end (and would kill the job): the test times out otherwise.
    await closed;
  });

  it('a line that is JSON but not the protocol fails the attempt and never reaches the sink', async () => {
    for (const bad of ['null', '{"type":"x"}', '{"type":"stdout","data":5}', '{"type":"result"}']) {
      answer = (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/x-ndjson' });
        res.write(`${bad}\n`);
      };
      const { sink, seen } = recordingSink();
      const attempt = await run(sink);
      expect(attempt).toEqual({ kind: 'failed', reason: 'the worker sent what is not the live protocol' });
      expect(seen).toEqual(['started']);
    }
  });

  it('an answer still being read at the deadline waits on its client: client_gone, not a failed worker', async () => {
    let cut = false;
    answer = (req, res) => {
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      res.write('{"type":"stdout","data":"a"}\n');
      req.once('close', () => (cut = true));
    };
    const { sink } = recordingSink();
    const attempt = await proxy.run(lease, job, { interactive: false, includeOutput: false }, 'r2', 300, new AbortController().signal, sink);
    expect(attempt).toEqual({ kind: 'client_gone' });
    await new Promise((r) => setTimeout(r, 50));
    expect(cut).toBe(true); // the worker sees the connection cut, and stops the job
  });
});
