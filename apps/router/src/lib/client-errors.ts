import { STATUS_CODES, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { CorralError } from '@corral/contracts';

/** How long a refused connection stays open after its answer, so that the client reads it before the close. */
const LINGER_MS = 1000;

/** What Node's HTTP parser, or its headers and body timeouts, refused, as a catalogue error. */
export function parserRejection(code: string | undefined): CorralError {
  switch (code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new CorralError('request_timeout', 'The request (its headers, or its whole body) did not arrive within the timeout.');
    case 'HPE_HEADER_OVERFLOW':
      return new CorralError('headers_too_large');
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return new CorralError('payload_too_large', 'The chunk extensions of the body are too large.');
    default:
      return new CorralError('invalid_request', `The request is not valid HTTP/1.1 (${code ?? 'unknown parser error'}).`);
  }
}

/** A complete HTTP/1.1 answer carrying the error's JSON body, closing the connection. */
export function rawErrorAnswer(err: CorralError): string {
  const body = JSON.stringify(err.toBody());
  return [
    `HTTP/1.1 ${err.httpStatus} ${STATUS_CODES[err.httpStatus] ?? 'Error'}`,
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
    '',
    body,
  ].join('\r\n');
}

/** Errors of a connection whose client is gone: nobody to answer. */
const GONE = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);

/**
 * Answers what Node's HTTP parser refuses (malformed requests, oversized headers, the headers
 * and body timeouts) with the same JSON error body as every other answer, where Node would
 * write a bare status line. Only on a connection with no answer under way: bytes written into
 * an answer already started would corrupt it. Node leaves the socket to this handler.
 */
export function answerClientErrors(server: Server): void {
  // The answers started on each connection and not yet finished (more than one when pipelined).
  const started = new WeakMap<Duplex, Set<ServerResponse>>();
  const answered = new WeakSet<Duplex>();
  server.on('request', (req, res: ServerResponse) => {
    const socket = req.socket;
    const open = started.get(socket) ?? new Set<ServerResponse>();
    started.set(socket, open);
    open.add(res);
    res.once('close', () => open.delete(res)); // after 'finish' too
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    const underWay = [...(started.get(socket) ?? [])].some((res) => res.headersSent);
    if (answered.has(socket) || GONE.has(err.code ?? '') || !socket.writable || underWay) {
      socket.destroy();
      return;
    }
    answered.add(socket);
    socket.end(rawErrorAnswer(parserRejection(err.code)));
    setTimeout(() => socket.destroy(), LINGER_MS).unref();
  });
}
