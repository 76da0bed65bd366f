import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { CorralClient } from '@corral/client';
import WebSocket from 'ws';
import { formatMs, formatRatio } from '../format';
import { ratio, summarize, type Summary } from '../stats';
import { atMost, type TargetCheck } from '../targets';
import { HELLO_CODE, waitAllIdle } from './context';
import type { Scenario, ScenarioContext } from './scenario';

/** A program whose first output comes well before its end: what a live stream is for. */
const PAUSE_MS = 200;
const PAUSING_CODE = `console.log("first"); setTimeout(() => console.log("last"), ${PAUSE_MS});`;

/** SSE's time to its first output ÷ the blocking call's answer time, for the pausing program, at most. */
export const STREAM_FIRST_BYTE_RATIO = 0.5;
/** A hello world's whole stream ÷ the blocking call, at most (SSE and WebSocket each). */
export const STREAM_TOTAL_RATIO = 1.5;

/** Time to the first output and to the result, per transport (ms). */
interface Timing {
  firstMs: number;
  totalMs: number;
}

export interface StreamingResult {
  requests: number;
  thinkMs: number;
  pauseMs: number;
  /** The pausing program: blocking (first = total), SSE, WebSocket. */
  pausing: Record<'blocking' | 'sse' | 'websocket' | 'client', { first: Summary; total: Summary }>;
  /** A hello world. */
  hello: Record<'blocking' | 'sse' | 'websocket' | 'client', Summary>;
  errors: number;
}

async function blocking(url: string, code: string): Promise<Timing> {
  const started = performance.now();
  const res = await fetch(`${url}/v1/executions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code }) });
  const body = (await res.json()) as { status?: string };
  if (res.status !== 200 || body.status !== 'ok') throw new Error(`the blocking call answered ${res.status} ${body.status}`);
  const ms = performance.now() - started;
  return { firstMs: ms, totalMs: ms };
}

async function sse(url: string, code: string): Promise<Timing> {
  const started = performance.now();
  const res = await fetch(`${url}/v1/executions`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'text/event-stream' }, body: JSON.stringify({ code }) });
  if (res.status !== 200 || !res.body) throw new Error(`the stream answered ${res.status}`);
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  let firstMs = -1;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
    if (firstMs < 0 && text.includes('event: stdout')) firstMs = performance.now() - started;
  }
  if (!text.includes('event: result') || !text.includes('"status":"ok"')) throw new Error('the stream ended without an ok result');
  return { firstMs, totalMs: performance.now() - started };
}

function websocket(url: string, code: string): Promise<Timing> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/v1/executions/stream`);
    let firstMs = -1;
    let ok = false;
    const timer = setTimeout(() => ws.terminate(), 30_000);
    ws.on('open', () => ws.send(JSON.stringify({ type: 'start', code })));
    ws.on('message', (data) => {
      const message = JSON.parse(String(data)) as { type: string; status?: string };
      if (message.type === 'stdout' && firstMs < 0) firstMs = performance.now() - started;
      if (message.type === 'result') ok = message.status === 'ok';
    });
    ws.on('error', () => undefined);
    ws.on('close', () => {
      clearTimeout(timer);
      if (ok) resolve({ firstMs, totalMs: performance.now() - started });
      else reject(new Error('the session closed without an ok result'));
    });
  });
}

/** SSE read by @corral/client's `stream` (its parser, its async iterator), as the CLI and the playground read it. */
async function client(url: string, code: string): Promise<Timing> {
  const started = performance.now();
  let firstMs = -1;
  for await (const event of new CorralClient({ baseUrl: url }).stream({ code })) {
    if (event.type === 'stdout' && firstMs < 0) firstMs = performance.now() - started;
    if (event.type === 'result' && event.result.status !== 'ok') throw new Error(`the stream ended ${event.result.status}`);
  }
  return { firstMs, totalMs: performance.now() - started };
}

const TRANSPORTS = { blocking, sse, websocket, client } as const;
type Transport = keyof typeof TRANSPORTS;

/** Scenario 11: live output (SSE, WebSocket) against the blocking call, the same programs in turn. */
export const streaming: Scenario<StreamingResult, 'stack'> = {
  id: 'streaming',
  title: '12. Live output: time to the first output and to the result over SSE and WebSocket, against the blocking call',
  needs: ['stack'],

  async run(ctx: ScenarioContext<'stack'>) {
    const { requests, thinkMs } = ctx.plan.streaming;
    const url = ctx.stack.url;
    await waitAllIdle(ctx);
    const pausing = { blocking: [] as Timing[], sse: [] as Timing[], websocket: [] as Timing[], client: [] as Timing[] };
    const hello = { blocking: [] as number[], sse: [] as number[], websocket: [] as number[], client: [] as number[] };
    let errors = 0;
    const counter = ctx.progress.counter(`streaming: ${requests} rounds of blocking, SSE, WebSocket and client.stream, ${thinkMs} ms apart`, requests);
    for (let i = 0; i < requests; i += 1) {
      for (const transport of Object.keys(TRANSPORTS) as Transport[]) {
        try {
          pausing[transport].push(await TRANSPORTS[transport](url, PAUSING_CODE));
          await sleep(thinkMs);
          hello[transport].push((await TRANSPORTS[transport](url, HELLO_CODE)).totalMs);
        } catch {
          errors += 1;
        }
        await sleep(thinkMs);
      }
      counter.tick();
    }
    counter.done();
    const both = (timings: Timing[]) => ({ first: summarize(timings.map((t) => t.firstMs)), total: summarize(timings.map((t) => t.totalMs)) });
    return {
      requests,
      thinkMs,
      pauseMs: PAUSE_MS,
      pausing: { blocking: both(pausing.blocking), sse: both(pausing.sse), websocket: both(pausing.websocket), client: both(pausing.client) },
      hello: { blocking: summarize(hello.blocking), sse: summarize(hello.sse), websocket: summarize(hello.websocket), client: summarize(hello.client) },
      errors,
    };
  },

  render(r) {
    const name: Record<Transport, string> = { blocking: 'blocking call', sse: 'SSE', websocket: 'WebSocket (connect included)', client: 'SSE through @corral/client stream()' };
    const transports = Object.keys(name) as Transport[];
    return {
      method: [
        `${r.requests} rounds, one client, ${r.thinkMs} ms between requests: in each round the blocking call, SSE and a WebSocket session run, in turn, ` +
          `a program that prints a line, waits ${r.pauseMs} ms and prints another, then a hello world. Time to the first output is when the client has read ` +
          'the first stdout event (the blocking call has nothing before its answer); total is the whole answer, the result read. The WebSocket figures include ' +
          'its connection and upgrade (a new session per execution, as the protocol has it); the HTTP ones reuse a kept-alive connection. ' +
          'The last row reads the same SSE answer through @corral/client `stream()` (its parser and async iterator), as `corral run` and the playground do.',
      ],
      tables: [
        {
          headers: [`print, wait ${r.pauseMs} ms, print`, 'first output p50', 'p90', 'total p50', 'p90', 'first ÷ blocking'],
          rows: transports.map((t) => [
            name[t],
            formatMs(r.pausing[t].first.p50),
            formatMs(r.pausing[t].first.p90),
            formatMs(r.pausing[t].total.p50),
            formatMs(r.pausing[t].total.p90),
            formatRatio(ratio(r.pausing[t].first.p50, r.pausing.blocking.total.p50)),
          ]),
        },
        {
          headers: ['hello world', 'requests', 'p50', 'p90', 'p99', 'p50 ÷ blocking'],
          rows: transports.map((t) => [name[t], String(r.hello[t].n), formatMs(r.hello[t].p50), formatMs(r.hello[t].p90), formatMs(r.hello[t].p99), formatRatio(ratio(r.hello[t].p50, r.hello.blocking.p50))]),
        },
      ],
      notes: [`${r.errors} errors.`, 'A live execution goes through the same dispatch as the blocking call; its worker answers in NDJSON, chunk by chunk, and the router relays each chunk as it comes.'],
    };
  },

  targets(r): TargetCheck[] {
    const first = ratio(r.pausing.sse.first.p50, r.pausing.blocking.total.p50);
    const sseHello = ratio(r.hello.sse.p50, r.hello.blocking.p50);
    const wsHello = ratio(r.hello.websocket.p50, r.hello.blocking.p50);
    const clientFirst = ratio(r.pausing.client.first.p50, r.pausing.blocking.total.p50);
    const clientHello = ratio(r.hello.client.p50, r.hello.blocking.p50);
    return [
      { target: `SSE first output p50 ≤ ${STREAM_FIRST_BYTE_RATIO} × the blocking answer (a program that pauses ${r.pauseMs} ms)`, measured: formatRatio(first), met: atMost(first, STREAM_FIRST_BYTE_RATIO) },
      { target: `hello world over SSE p50 ≤ ${STREAM_TOTAL_RATIO} × blocking`, measured: formatRatio(sseHello), met: atMost(sseHello, STREAM_TOTAL_RATIO) },
      { target: `hello world over WebSocket p50 ≤ ${STREAM_TOTAL_RATIO} × blocking`, measured: formatRatio(wsHello), met: atMost(wsHello, STREAM_TOTAL_RATIO) },
      { target: `@corral/client stream() first output p50 ≤ ${STREAM_FIRST_BYTE_RATIO} × the blocking answer`, measured: formatRatio(clientFirst), met: atMost(clientFirst, STREAM_FIRST_BYTE_RATIO) },
      { target: `hello world through @corral/client stream() p50 ≤ ${STREAM_TOTAL_RATIO} × blocking`, measured: formatRatio(clientHello), met: atMost(clientHello, STREAM_TOTAL_RATIO) },
    ];
  },
};
