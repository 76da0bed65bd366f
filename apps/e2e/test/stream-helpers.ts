import WebSocket from 'ws';

/** One SSE event as the client read it; `read` numbers the body reads, so spread-out arrival shows without timing. */
export interface SseEvent {
  event: string;
  data: unknown;
  read: number;
}

/** A comment line (`: heartbeat`) counts here. */
export interface SseAnswer {
  status: number;
  contentType: string | null;
  events: SseEvent[];
  comments: number;
}

/**
 * POSTs an execution with `Accept: text/event-stream` and reads the events as they come;
 * `onEvent` may return 'stop' to leave (the connection is cut). Rejects after `timeoutMs`.
 */
export async function sse(url: string, body: unknown, options: { query?: string; headers?: Record<string, string>; timeoutMs?: number; onEvent?: (event: SseEvent) => 'stop' | void; readDelayMs?: number } = {}): Promise<SseAnswer> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(new Error('the stream did not end in time')), options.timeoutMs ?? 30_000);
  try {
    const res = await fetch(`${url}/v1/executions${options.query ?? ''}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...options.headers },
      body: JSON.stringify(body),
      signal: abort.signal,
    });
    const answer: SseAnswer = { status: res.status, contentType: res.headers.get('content-type'), events: [], comments: 0 };
    if (!res.body) return answer;
    if (!answer.contentType?.startsWith('text/event-stream')) {
      answer.events.push({ event: 'http', data: await res.json(), read: 0 });
      return answer;
    }
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let pending = '';
    for (let read = 0; ; read += 1) {
      if (options.readDelayMs) await new Promise((resolve) => setTimeout(resolve, options.readDelayMs));
      const { done, value } = await reader.read();
      if (done) return answer;
      pending += decoder.decode(value, { stream: true });
      let end = pending.indexOf('\n\n');
      while (end !== -1) {
        const block = pending.slice(0, end);
        pending = pending.slice(end + 2);
        end = pending.indexOf('\n\n');
        if (block.startsWith(':')) {
          answer.comments += 1;
          continue;
        }
        const name = /^event: (.*)$/m.exec(block)?.[1] ?? 'message';
        const data = /^data: (.*)$/m.exec(block)?.[1] ?? '';
        const event = { event: name, data: JSON.parse(data) as unknown, read };
        answer.events.push(event);
        if (options.onEvent?.(event) === 'stop') {
          abort.abort(new Error('left on purpose'));
          await reader.cancel().catch(() => undefined);
          return answer;
        }
      }
    }
  } finally {
    clearTimeout(timer);
  }
}

/** A WebSocket client of the session endpoint that keeps every message and how it closed. */
export interface Session {
  ws: WebSocket;
  messages: Array<Record<string, unknown>>;
  /** Resolves with the close code and reason. */
  closed: Promise<{ code: number; reason: string }>;
  send(message: unknown): void;
  /** Resolves with the first message (from now on or already in) that `match` accepts; rejects after 15 s. */
  next(match: (message: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
  text(stream: 'stdout' | 'stderr'): string;
}

export function wsUrl(url: string): string {
  return `${url.replace(/^http/, 'ws')}/v1/executions/stream`;
}

export async function openSession(url: string, headers: Record<string, string> = {}, options: { autoPong?: boolean } = {}): Promise<Session> {
  const ws = new WebSocket(wsUrl(url), { headers, autoPong: options.autoPong ?? true });
  const messages: Array<Record<string, unknown>> = [];
  const waiters: Array<() => void> = [];
  ws.on('message', (data) => {
    messages.push(JSON.parse(String(data)) as Record<string, unknown>);
    for (const wake of waiters.splice(0)) wake();
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  ws.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    ws.once('error', reject);
  });
  const session: Session = {
    ws,
    messages,
    closed,
    send: (message) => ws.send(typeof message === 'string' ? message : JSON.stringify(message)),
    next(match) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no matching message; got ${JSON.stringify(messages).slice(0, 500)}`)), 15_000);
        let seen = 0;
        const look = (): void => {
          for (; seen < messages.length; seen += 1) {
            const message = messages[seen] as Record<string, unknown>;
            if (match(message)) {
              clearTimeout(timer);
              return resolve(message);
            }
          }
          waiters.push(look);
        };
        look();
      });
    },
    text: (stream) =>
      messages
        .filter((m) => m['type'] === stream)
        .map((m) => m['data'])
        .join(''),
  };
  return session;
}
