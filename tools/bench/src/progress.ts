import { performance } from 'node:perf_hooks';

/** Progress on stderr while the benchmark runs: rewritten in place on a terminal, a few lines otherwise. */
export class Progress {
  private readonly tty: boolean;
  private pending = false;

  constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {
    this.tty = Boolean(stream.isTTY);
  }

  /** A line of its own. */
  say(text: string): void {
    this.clear();
    this.stream.write(`bench: ${text}\n`);
  }

  private clear(): void {
    if (this.tty && this.pending) this.stream.write('\r\x1b[2K');
    this.pending = false;
  }

  private update(text: string, final: boolean): void {
    if (this.tty) {
      this.stream.write(`\r\x1b[2Kbench: ${text}${final ? '\n' : ''}`);
      this.pending = !final;
    } else {
      this.stream.write(`bench: ${text}\n`);
    }
  }

  /** Counts to `total`: on a terminal at most 5 updates a second, otherwise at every quarter. */
  counter(label: string, total: number): { tick(detail?: string): void; done(detail?: string): void } {
    let count = 0;
    let lastDraw = 0;
    let lastQuarter = 0;
    const started = performance.now();
    this.update(`${label} 0/${total}`, false);
    return {
      tick: (detail?: string) => {
        count += 1;
        const now = performance.now();
        const quarter = Math.floor((count / total) * 4);
        if (this.tty ? now - lastDraw >= 200 : quarter > lastQuarter && count < total) {
          lastDraw = now;
          lastQuarter = quarter;
          this.update(`${label} ${count}/${total}${detail ? ` ${detail}` : ''}`, false);
        }
      },
      done: (detail?: string) => {
        const seconds = ((performance.now() - started) / 1000).toFixed(1);
        this.update(`${label} ${count}/${total} done in ${seconds} s${detail ? `: ${detail}` : ''}`, true);
      },
    };
  }

  /** A countdown for a timed phase; returns its stop function. */
  timed(label: string, ms: number): () => void {
    const started = performance.now();
    const draw = (final: boolean): void => {
      const elapsed = Math.min(ms, performance.now() - started) / 1000;
      this.update(`${label} ${elapsed.toFixed(0)}/${(ms / 1000).toFixed(0)} s`, final);
    };
    draw(false);
    const timer = setInterval(() => this.tty && draw(false), 1000);
    return () => {
      clearInterval(timer);
      draw(true);
    };
  }
}
