import type { IncomingMessage } from 'node:http';
import { CorralError } from '@corral/contracts';

/** How much of a client's header value an error message quotes. */
const QUOTED_CHARS = 40;

function quote(value: string): string {
  return JSON.stringify(value.length > QUOTED_CHARS ? `${value.slice(0, QUOTED_CHARS)}…` : value);
}

/**
 * Refuses, from the headers alone, a body that cannot be a job: an encoding other than identity
 * (a JSON job is small; compressed bodies are a way to make the router inflate more than the
 * body limit) and a declared length over the limit, so that neither is read first.
 * @throws CorralError unsupported_media_type (415), payload_too_large (413)
 */
export function checkBodyHeaders(headers: IncomingMessage['headers'], limitBytes: number): void {
  const encoding = headers['content-encoding']?.trim().toLowerCase();
  if (encoding && encoding !== 'identity') {
    throw new CorralError('unsupported_media_type', `Content-Encoding ${quote(encoding)} is not supported: send the JSON body as it is.`);
  }
  // Node's parser has already refused a malformed or doubled Content-Length.
  const declared = Number(headers['content-length']);
  if (declared > limitBytes) {
    throw new CorralError('payload_too_large', `The body is ${declared} bytes; the limit is ${limitBytes}.`);
  }
}

/**
 * Reads a request's body up to `limitBytes`, refusing it as soon as it is known to be too large
 * (from its headers, or once it has grown past the limit) instead of reading it to its end.
 * The caller answers a refusal with `Connection: close`: the rest of the body is never read.
 * @throws CorralError unsupported_media_type, payload_too_large, invalid_request (the body was cut short)
 */
export function readBody(req: IncomingMessage, limitBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    try {
      checkBodyHeaders(req.headers, limitBytes);
    } catch (err) {
      reject(err);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const fail = (err: CorralError): void => {
      req.off('data', onData);
      req.pause();
      reject(err);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limitBytes) fail(new CorralError('payload_too_large', `The body exceeds ${limitBytes} bytes.`));
      else chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks, size)));
    // A client that leaves mid-body; the promise is settled once, whichever comes first.
    req.once('error', () => fail(new CorralError('invalid_request', 'The request body was cut short.')));
    req.once('close', () => {
      if (!req.complete) fail(new CorralError('invalid_request', 'The request body was cut short.'));
    });
  });
}
