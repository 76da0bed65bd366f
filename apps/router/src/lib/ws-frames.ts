import type { RawData, WebSocket } from 'ws';

/** Signals a WebSocket session may send: enough for any interactive use, not a flood of kill(2) calls. */
export const MAX_SIGNALS = 16;

/** The bytes of a message as ws hands it over (a Buffer, fragments, or an ArrayBuffer). */
export function frameBytes(data: RawData): number {
  return Array.isArray(data) ? data.reduce((sum, part) => sum + part.length, 0) : data.byteLength;
}

/** A message's text (UTF-8). */
export function frameText(data: RawData): string {
  return Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.concat(Array.isArray(data) ? data : [Buffer.from(data)]).toString('utf8');
}

/**
 * Pings `ws` every `everyMs` until it closes; a peer that answered no ping since the last one is
 * gone (its connection cut without a close frame) and is terminated, which closes its session and
 * stops its execution instead of leaving it to run to its timeout with nobody reading.
 */
export function keepAlive(ws: WebSocket, everyMs: number): void {
  let alive = true;
  const timer = setInterval(() => {
    if (!alive) return ws.terminate();
    alive = false;
    ws.ping();
  }, everyMs);
  ws.on('pong', () => (alive = true));
  ws.once('close', () => clearInterval(timer));
}
