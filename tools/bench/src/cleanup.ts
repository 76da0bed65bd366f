/**
 * Everything the harness starts registers how to stop it here; `runAll` stops it all in
 * reverse order, on success, failure and Ctrl-C alike.
 */
export class Cleanup {
  private readonly tasks = new Map<number, { name: string; fn: () => Promise<unknown> | unknown }>();
  private next = 0;
  private running: Promise<void> | null = null;

  /** Registers a stop function; the returned function unregisters it (once it was stopped by its owner). */
  add(name: string, fn: () => Promise<unknown> | unknown): () => void {
    const id = this.next++;
    this.tasks.set(id, { name, fn });
    return () => void this.tasks.delete(id);
  }

  get size(): number {
    return this.tasks.size;
  }

  /** Runs every registered stop function, newest first, each at most `timeoutMs`; errors are reported, not thrown. */
  runAll(report: (message: string) => void = () => undefined, timeoutMs = 30_000): Promise<void> {
    this.running ??= (async () => {
      const tasks = [...this.tasks.entries()].reverse();
      this.tasks.clear();
      for (const [, task] of tasks) {
        let timer: NodeJS.Timeout | undefined;
        try {
          await Promise.race([
            Promise.resolve().then(task.fn),
            new Promise((_, reject) => {
              timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
            }),
          ]);
        } catch (err) {
          report(`stopping ${task.name} failed: ${(err as Error).message}`);
        } finally {
          clearTimeout(timer);
        }
      }
    })().finally(() => (this.running = null));
    return this.running;
  }
}

/** On SIGINT or SIGTERM runs `handler` once; a second signal exits at once. */
export function onInterrupt(handler: (signal: NodeJS.Signals) => Promise<void>): void {
  let interrupted = false;
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      if (interrupted) process.exit(130);
      interrupted = true;
      void handler(signal);
    });
  }
}
