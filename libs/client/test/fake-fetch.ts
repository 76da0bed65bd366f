import type { FetchInitLike, FetchLike } from '../src/types';

/** One scripted answer of the fake fetch. */
export interface Scripted {
  status?: number;
  headers?: Record<string, string>;
  /** A string is sent as it is; anything else as JSON. */
  body?: unknown;
  /** Answers after this long (or never, with `Infinity`), unless the call is aborted first. */
  delayMs?: number;
  /** Rejects like a failed connection. */
  fail?: Error;
}

export interface Call {
  url: string;
  init: FetchInitLike;
}

/**
 * A fetch that answers from a script, one entry per call (the last one repeats), and rejects
 * with the signal's reason when the call is aborted, as the platform's fetch does.
 */
export function fakeFetch(script: Scripted[]): { fetch: FetchLike; calls: Call[] } {
  const calls: Call[] = [];
  const fetch: FetchLike = (url, init) => {
    calls.push({ url, init });
    const entry = script[Math.min(calls.length - 1, script.length - 1)] ?? {};
    return new Promise((resolve, reject) => {
      if (init.signal.aborted) return reject(init.signal.reason);
      const respond = (): void => {
        if (entry.fail) return reject(entry.fail);
        const headers = new Map(Object.entries(entry.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
        const text = typeof entry.body === 'string' ? entry.body : entry.body === undefined ? '' : JSON.stringify(entry.body);
        resolve({ status: entry.status ?? 200, headers: { get: (name) => headers.get(name.toLowerCase()) ?? null }, text: async () => text });
      };
      // Without a delay it answers at once, under real and fake timers alike.
      if (entry.delayMs === undefined) return respond();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(init.signal.reason);
      };
      init.signal.addEventListener('abort', onAbort, { once: true });
      if (entry.delayMs !== Infinity) {
        timer = setTimeout(() => {
          init.signal.removeEventListener('abort', onAbort);
          respond();
        }, entry.delayMs);
      }
    });
  };
  return { fetch, calls };
}

export const RESULT = {
  id: '3f657381-f122-4e00-a08e-b133b73cf6a6',
  status: 'ok',
  exitCode: 0,
  signal: null,
  stdout: 'hi\n',
  stderr: '',
  truncated: false,
  durationMs: 11,
  cpuMs: 9.9,
  memoryBytes: 46985216,
} as const;

export const NO_CAPACITY = { error: { code: 'no_capacity', message: 'No sandbox became free within the queue deadline.' } };
export const QUEUE_FULL = { error: { code: 'queue_full', message: 'Too many requests are waiting for a slot.' } };
