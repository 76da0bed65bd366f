import { performance } from 'node:perf_hooks';
import { relative } from 'node:path';
import { CorralClient } from '@corral/client';
import { REPO_ROOT, startStack, type Stack } from '@corral/devkit';
import { Registry } from '@corral/registry';
import { startNaiveServer, type NaiveServer } from './baselines';
import type { HarnessContext, Need, Scenario, ScenarioContext, StackParts } from './scenarios/scenario';

const WHAT: Record<Need, string> = { naive: 'the naive baseline', stack: 'the stack' };

/** Something the harness could not start: every scenario that needs it fails with `reason`. */
export class NeedUnavailable extends Error {
  constructor(
    readonly need: Need,
    readonly reason: string,
  ) {
    super(`cannot run the scenarios that need ${WHAT[need]}: ${reason}`);
  }
}

/**
 * What the scenarios need, started once before the first scenario that needs it: the naive
 * server (stopped again once no later scenario needs it) and the stack, whose services' last log
 * lines it keeps for when something fails. Everything it starts is registered with the cleanup.
 */
export class Harness {
  private naive: NaiveServer | null = null;
  private stackParts: StackParts | null = null;
  private readonly failed = new Map<Need, string>();
  private readonly recentLogs: string[] = [];
  private sandboxLayers: string | null = null;
  private readonly stackSetup: string[] = [];
  /** Why the stack stopped serving, once one of its services exited while it was meant to run. */
  stackDown: string | null = null;

  constructor(
    private readonly base: HarnessContext,
    private readonly options: { loopbackBase: string; sandboxNode: string },
  ) {}

  /** Why a scenario with `needs` cannot run: something it needs failed to start before. */
  unavailable(needs: readonly Need[]): string | null {
    for (const need of needs) {
      const message = this.failed.get(need);
      if (message !== undefined) return message;
    }
    return null;
  }

  /**
   * The context of a scenario with `needs`, starting what is not running yet (the naive server
   * before the stack). @throws NeedUnavailable when one cannot start
   */
  async context(needs: readonly Need[]): Promise<ScenarioContext<Need>> {
    for (const need of (['naive', 'stack'] as const).filter((n) => needs.includes(n))) {
      try {
        if (need === 'naive') this.naive ??= await startNaiveServer(this.base.nodePath, this.base.cleanup);
        else this.stackParts ??= await this.startStack();
      } catch (err) {
        const reason = (err as Error).message;
        this.failed.set(need, reason);
        throw new NeedUnavailable(need, reason);
      }
    }
    return { ...this.base, ...this.stackParts, ...(this.naive ? { naiveUrl: this.naive.url } : {}) } as ScenarioContext<Need>;
  }

  /** Stops the naive server once none of the scenarios still to run needs it. */
  async release(upcoming: readonly Scenario<unknown, Need>[]): Promise<void> {
    if (this.naive && !upcoming.some((s) => s.needs.includes('naive'))) {
      await this.naive.stop();
      this.naive = null;
    }
  }

  /** The services' last log lines, when something failed. */
  showLogs(): void {
    if (this.recentLogs.length === 0) return;
    this.base.progress.say(`the services' last log lines:\n${this.recentLogs.slice(-20).join('\n')}`);
  }

  /** How the measured system was set up, for the report: one bullet each. */
  setup(): string[] {
    const { cores } = this.base;
    const runtime = relative(REPO_ROOT, this.base.nodePath) || this.base.nodePath;
    return [
      ...this.stackSetup,
      `The harness itself is the load generator (one node process; corral's API through @corral/client, every request over node:http with keep-alive connections) and runs on the same ${cores} cores as everything it measures.`,
      `Sandbox runtime: ${runtime} (${this.options.sandboxNode}); the naive baseline and \`node -e 0\` use the same binary.`,
    ];
  }

  private serviceLog(line: string): void {
    this.recentLogs.push(line);
    if (this.recentLogs.length > 100) this.recentLogs.shift();
    if (!line.includes('"sandbox layers"')) return;
    try {
      const layers = (JSON.parse(line) as { layers?: Record<string, string> }).layers ?? {};
      this.sandboxLayers = Object.entries(layers).map(([layer, state]) => `${layer}: ${state}`).join('; ');
    } catch {
      // not JSON after all
    }
  }

  private async startStack(): Promise<StackParts> {
    const { plan, progress, cleanup, http } = this.base;
    progress.say(`starting the stack: ${plan.slots} slots from ${this.options.loopbackBase}, a private redis-server, netprov, worker, watchdog, router…`);
    const started = performance.now();
    const stack: Stack = await startStack({
      slots: plan.slots,
      loopbackBase: this.options.loopbackBase,
      output: (line) => this.serviceLog(line),
      onUnexpectedExit: (service, code) => {
        this.stackDown = `${service} exited unexpectedly (${code})`;
        progress.say(this.stackDown);
      },
    });
    cleanup.add('the stack', () => stack.stop());
    progress.say(`stack ready at ${stack.url} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    this.stackSetup.push(
      `Stack: ${plan.slots} slots (loopback backend, ${this.options.loopbackBase} on), router, worker, watchdog and a private redis-server, each its own process as ` +
        `deployed (startStack from @corral/devkit), default configuration, LOG_LEVEL=${process.env['LOG_LEVEL'] || 'info'} (the logs go to the harness, which keeps the last lines).`,
      `The worker's sandbox layers: ${this.sandboxLayers ?? 'not logged by this worker (the permission model, an empty environment and rlimits under corral-spawn)'}.`,
    );
    const registry = await Registry.connect({ url: stack.redisUrl, prefix: stack.prefix });
    cleanup.add('the Redis connection', () => registry.close());
    return { stack, registry, corral: new CorralClient({ baseUrl: stack.url, fetch: http.fetch }) };
  }
}
