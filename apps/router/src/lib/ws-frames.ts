import type { RawData } from 'ws';

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
