import { Counter, Gauge, type Registry as PromRegistry } from 'prom-client';

/** How a live execution reaches its client. */
export type StreamTransport = 'sse' | 'websocket';

/** Live executions on /metrics: how many are open, what they carried, how many clients left mid-run. */
export interface StreamMetrics {
  opened(transport: StreamTransport): void;
  closed(transport: StreamTransport): void;
  /** Output bytes (UTF-8) sent to a client. */
  streamed(transport: StreamTransport, bytes: number): void;
  /** A client left before its execution ended (the execution was ended with it). */
  disconnected(transport: StreamTransport): void;
}

export function createStreamMetrics(prom: PromRegistry): StreamMetrics {
  const open = new Gauge({ name: 'corral_streams_open', help: 'Live executions with a client attached, by transport.', labelNames: ['transport'], registers: [prom] });
  const bytes = new Counter({ name: 'corral_stream_bytes_total', help: 'Output bytes sent to clients of live executions, by transport.', labelNames: ['transport'], registers: [prom] });
  const disconnects = new Counter({
    name: 'corral_stream_disconnects_total',
    help: 'Clients of live executions that left before the end (each execution was ended at once).',
    labelNames: ['transport'],
    registers: [prom],
  });
  for (const transport of ['sse', 'websocket'] as const) {
    open.inc({ transport }, 0);
    bytes.inc({ transport }, 0);
    disconnects.inc({ transport }, 0);
  }
  return {
    opened: (transport) => open.inc({ transport }),
    closed: (transport) => open.dec({ transport }),
    streamed: (transport, n) => bytes.inc({ transport }, n),
    disconnected: (transport) => disconnects.inc({ transport }),
  };
}
