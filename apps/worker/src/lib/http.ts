import type { IncomingMessage, ServerResponse } from 'node:http';
import { CorralError, ERROR_HEADER, type ErrorCode } from '@corral/contracts';

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Answers with a catalogue error, its code named in ERROR_HEADER too (the router reads it, not the body). */
export function sendError(res: ServerResponse, error: ErrorCode | CorralError, message?: string): void {
  const err = error instanceof CorralError ? error : new CorralError(error, message);
  sendJson(res, err.httpStatus, err.toBody(), { [ERROR_HEADER]: err.code });
}

/** Reads a request body up to `limit` bytes. @throws CorralError payload_too_large */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (declared > limit) {
      reject(new CorralError('payload_too_large', `The body is ${declared} bytes; the limit is ${limit}.`));
      req.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new CorralError('payload_too_large', `The body exceeds ${limit} bytes.`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
  });
}
