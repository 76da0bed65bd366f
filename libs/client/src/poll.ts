import { CorralClientError } from './errors';
import { sleep } from './request';

/** Failures worth another look while polling: the router not (yet) reachable, or overloaded. */
export function transient(err: CorralClientError): boolean {
  return err.code === 'network_error' || err.code === 'request_timeout' || (err.httpStatus !== null && (err.httpStatus >= 500 || err.httpStatus === 429));
}

/** How one polling loop looks, waits and gives up. */
export interface PollPlan<T> {
  /** One look; `timeoutMs` is what is left of the deadline. */
  look(call: { timeoutMs: number; signal?: AbortSignal }): Promise<T>;
  /** True when `value` is what the loop waits for. */
  done(value: T): boolean;
  /** The last value in words, for the timeout's message. */
  describe(value: T): string;
  /** What is waited for, in words: "every slot of http://… idle", "execution 3f65… to end". */
  what: string;
  timeoutMs: number;
  /** The first pause between two looks. */
  intervalMs: number;
  /** Each pause is the one before times this (1: a constant pause), up to `maxIntervalMs`. */
  backoff: number;
  maxIntervalMs: number;
  signal?: AbortSignal | undefined;
}

/**
 * Looks until `done`, pausing between looks (growing by `backoff`), and resolves with the value
 * that was done. A transient failure is looked at again; any other error throws at once, and so
 * do the deadline (`request_timeout`, with the last thing seen) and the signal (`request_aborted`).
 */
export async function poll<T>(plan: PollPlan<T>): Promise<T> {
  const deadline = Date.now() + plan.timeoutMs;
  let pause = plan.intervalMs;
  let last = 'nothing yet';
  for (;;) {
    try {
      const value = await plan.look({ timeoutMs: Math.max(1, deadline - Date.now()), ...(plan.signal ? { signal: plan.signal } : {}) });
      if (plan.done(value)) return value;
      last = plan.describe(value);
    } catch (err) {
      if (!(err instanceof CorralClientError) || !transient(err)) throw err;
      last = err.message;
    }
    if (Date.now() + pause >= deadline) {
      throw new CorralClientError('request_timeout', `${plan.what}: not within ${plan.timeoutMs} ms; last: ${last}`);
    }
    try {
      await sleep(pause, plan.signal);
    } catch (reason) {
      throw new CorralClientError('request_aborted', `${plan.what}: aborted`, { cause: reason });
    }
    pause = Math.min(plan.maxIntervalMs, Math.round(pause * plan.backoff));
  }
}
