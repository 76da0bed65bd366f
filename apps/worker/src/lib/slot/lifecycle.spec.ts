import { setTimeout as sleep } from 'node:timers/promises';
import type { Job, RunningSandbox } from '@corral/contracts';
import type { RunRequest, RunResult } from '@corral/sandbox';
import { createLogger } from '@corral/service';
import { SlotLifecycle } from './lifecycle';
import type { ReadyOutcome, SlotSandbox, SlotStore, StartOutcome } from './ports';

/** A sandbox whose boot, run and exit the test decides. */
class FakeSandbox implements SlotSandbox {
  static nextPid = 1000;
  readonly ready: Promise<void>;
  readonly exited: Promise<void>;
  pid: number | null = null;
  readonly groupLeader = null;
  readonly cgroup = null;
  readonly cpuAtReadyMs = 5;
  readonly runtimeCpuAtReadyMs = 4;
  killed = false;
  ran: RunRequest | null = null;
  boot!: { ok(): void; fail(err: Error): void };
  private exit!: () => void;
  /** How the run ends: the test sets `runFor` (ms) before the job comes. */
  runFor = 0;

  constructor(readonly heapMb: number) {
    this.ready = new Promise((resolve, reject) => {
      this.boot = {
        ok: () => {
          this.pid = (FakeSandbox.nextPid += 1);
          resolve();
        },
        fail: reject,
      };
    });
    this.ready.catch(() => undefined);
    this.exited = new Promise((resolve) => (this.exit = resolve));
  }

  private readonly stop = new AbortController();

  kill(): void {
    this.killed = true;
    this.stop.abort();
    this.exit();
  }

  stdin: string[] = [];
  signals: string[] = [];
  writeStdin(data: string): void {
    this.stdin.push(data);
  }
  endStdin(): void {
    this.stdin.push('<end>');
  }
  signal(signal: string): void {
    this.signals.push(signal);
  }

  async run(request: RunRequest): Promise<RunResult> {
    this.ran = request;
    await sleep(this.runFor, undefined, { signal: this.stop.signal }).catch(() => undefined);
    const signal = this.killed ? ('SIGKILL' as const) : null;
    this.exit();
    const exit = { exitCode: signal ? null : 0, signal, cpuUs: 1000, maxRssKb: 1, oomKilled: false, cgroupCpuUs: null };
    return { exit, stdout: Buffer.from('out'), stderr: Buffer.alloc(0), truncated: false, killedFor: null, durationMs: 1, cpuMs: 1, memoryBytes: 1 };
  }
}

type Call = [string, ...unknown[]];

/** A store that records every write; `fail` makes the next writes of a kind throw (Redis away). */
class FakeStore implements SlotStore {
  calls: Call[] = [];
  start: StartOutcome | Error = 'started';
  failing = new Map<string, number>();

  private record(name: string, ...args: unknown[]): void {
    this.calls.push([name, ...args]);
    const left = this.failing.get(name) ?? 0;
    if (left > 0) {
      this.failing.set(name, left - 1);
      throw new Error('Connection is closed');
    }
  }

  names(): string[] {
    return this.calls.map(([name]) => name);
  }

  async markBooting(token: string) {
    this.record('booting', token);
  }
  async markDead(token = '') {
    this.record('dead', token);
  }
  async markReady(token: string, pid: number): Promise<ReadyOutcome> {
    this.record('ready', token, pid);
    return 'idle';
  }
  async startJob(entry: RunningSandbox): Promise<StartOutcome> {
    this.record('startJob', entry.token, entry.pid);
    if (this.start instanceof Error) throw this.start;
    return this.start;
  }
  async updateRunning(entry: RunningSandbox) {
    this.record('updateRunning', entry.pid);
  }
  async restoreJob(entry: RunningSandbox, leaseMs: number) {
    this.record('restoreJob', entry.token, leaseMs);
    return true;
  }
  async killReason() {
    this.record('killReason');
    return 'cpu_limit' as const;
  }
}

const job = (extra: Partial<Job> = {}): Job => ({
  language: 'javascript',
  files: [{ name: 'main.js', content: '1', encoding: 'utf8' }],
  entry: 'main.js',
  collect: [],
  args: [],
  stdin: '',
  timeoutMs: 1000,
  cpuMs: 1000,
  memoryMb: 128,
  ...extra,
});

let store: FakeStore;
let sandboxes: FakeSandbox[];
/** Each started sandbox boots at once unless the test says otherwise. */
let autoBoot: boolean;
let slot: SlotLifecycle;

function newSlot(): SlotLifecycle {
  return new SlotLifecycle({
    slotId: 'h:0',
    store,
    startSandbox: (heapMb) => {
      const sandbox = new FakeSandbox(heapMb);
      sandboxes.push(sandbox);
      if (autoBoot) queueMicrotask(() => sandbox.boot.ok());
      return sandbox;
    },
    bootGate: (task) => task(),
    defaultMemoryMb: 128,
    maxOutputBytes: 1000,
    maxCollectBytes: 1000,
    log: createLogger('spec', 'silent', 'h'),
    retryMs: 5,
  });
}

async function until(what: string, check: () => boolean): Promise<void> {
  for (let i = 0; i < 400; i += 1) {
    if (check()) return;
    await sleep(5);
  }
  throw new Error(`timed out waiting for ${what}`);
}

beforeEach(() => {
  store = new FakeStore();
  sandboxes = [];
  autoBoot = true;
  slot = newSlot();
});

describe('slot lifecycle', () => {
  it('booting → warm: marks the slot booting, boots, then ready with the sandbox pid', async () => {
    await slot.start();
    expect(slot.state.kind).toBe('warm');
    expect(store.calls).toEqual([
      ['booting', ''],
      ['ready', '', sandboxes[0]!.pid],
    ]);
  });

  it('a boot that fails marks the slot dead and is tried again', async () => {
    autoBoot = false;
    const started = slot.start();
    await until('the first boot', () => sandboxes.length === 1);
    sandboxes[0]!.boot.fail(new Error('bwrap: no'));
    await until('the second boot', () => sandboxes.length === 2);
    expect(sandboxes[0]!.killed).toBe(true);
    sandboxes[1]!.boot.ok();
    await started;
    expect(store.names()).toEqual(['booting', 'dead', 'ready']);
    expect(slot.state).toMatchObject({ kind: 'warm', sandbox: sandboxes[1] });
  });

  it('a warm sandbox that dies is replaced: booting, then ready again', async () => {
    await slot.start();
    sandboxes[0]!.kill();
    await until('the replacement', () => store.names().filter((n) => n === 'ready').length === 2);
    expect(store.calls.slice(2)).toEqual([
      ['booting', ''],
      ['ready', '', sandboxes[1]!.pid],
    ]);
    expect(slot.state).toMatchObject({ kind: 'warm', sandbox: sandboxes[1] });
  });

  it('warm → running → draining → warm: a short job runs in the warm sandbox, the next one boots after it', async () => {
    await slot.start();
    const warm = sandboxes[0]!;
    const outcome = await slot.run('tok', job());
    expect(outcome).toMatchObject({ kind: 'done', killReason: null });
    expect(warm.ran).toMatchObject({ files: [{ name: 'main.js', content: '1' }], entry: 'main.js', maxOutputBytes: 1000 });
    expect(warm.killed).toBe(true);
    await until('the next sandbox', () => slot.state.kind === 'warm');
    expect(store.calls.slice(2)).toEqual([
      ['startJob', 'tok', warm.pid],
      ['booting', 'tok'], // the job's lease is given up as the slot boots
      ['ready', '', sandboxes[1]!.pid],
    ]);
  });

  it('a live job hands its output consumer to the sandbox, which it gets to write stdin to', async () => {
    await slot.start();
    const live = { keep: false, interactive: true, onOutput: () => true };
    let started: SlotSandbox | null = null;
    await slot.run('tok', job(), (sandbox) => (started = sandbox), live);
    expect(sandboxes[0]!.ran?.live).toBe(live);
    expect(started).toBe(sandboxes[0]);
  });

  it('a job past 50 ms has its successor boot beside it: straight back to ready under the job token', async () => {
    await slot.start();
    sandboxes[0]!.runFor = 150;
    await slot.run('tok', job());
    await until('ready', () => slot.state.kind === 'warm');
    expect(sandboxes).toHaveLength(2);
    expect(store.calls.slice(2)).toEqual([
      ['startJob', 'tok', sandboxes[0]!.pid],
      ['ready', 'tok', sandboxes[1]!.pid],
    ]);
  });

  it('a spare that fails to boot during the job is booted again after it', async () => {
    autoBoot = false;
    const started = slot.start();
    await until('boot', () => sandboxes.length === 1);
    sandboxes[0]!.boot.ok();
    await started;
    sandboxes[0]!.runFor = 150;
    const running = slot.run('tok', job());
    await until('the spare', () => sandboxes.length === 2);
    sandboxes[1]!.boot.fail(new Error('no'));
    await running;
    await until('another boot', () => sandboxes.length === 3);
    sandboxes[2]!.boot.ok();
    await until('ready', () => slot.state.kind === 'warm');
    expect(store.names().slice(2)).toEqual(['startJob', 'booting', 'ready']);
  });

  it('a token the registry does not honour, or a registry that cannot be reached, refuses the job and keeps the warm sandbox', async () => {
    await slot.start();
    store.start = 'bad_token';
    expect(await slot.run('stale', job())).toEqual({ kind: 'refused', code: 'bad_token', detail: 'bad_token' });
    store.start = new Error('Connection is closed');
    expect(await slot.run('tok', job())).toMatchObject({ kind: 'refused', code: 'unavailable' });
    expect(slot.state).toMatchObject({ kind: 'warm', sandbox: sandboxes[0] });
    expect(sandboxes[0]!.ran).toBeNull();
  });

  it('one job at a time: a second one is refused as slot_busy', async () => {
    await slot.start();
    sandboxes[0]!.runFor = 100;
    const first = slot.run('a', job());
    await until('running', () => slot.state.kind === 'running');
    expect(await slot.run('b', job())).toEqual({ kind: 'refused', code: 'slot_busy' });
    await first;
  });

  it('a job with another heap size gets a sandbox booted for it, and the watchdog is told', async () => {
    await slot.start();
    const outcome = await slot.run('tok', job({ memoryMb: 256 }));
    expect(outcome.kind).toBe('done');
    expect(sandboxes[0]!.killed).toBe(true);
    expect(sandboxes[1]!.heapMb).toBe(256);
    expect(sandboxes[1]!.ran).not.toBeNull();
    expect(store.calls).toContainEqual(['updateRunning', sandboxes[1]!.pid]);
  });

  it('a job killed from outside reports the reason the watchdog recorded', async () => {
    await slot.start();
    sandboxes[0]!.runFor = 1000;
    const running = slot.run('tok', job());
    await until('running', () => slot.state.kind === 'running');
    sandboxes[0]!.kill();
    expect(await running).toMatchObject({ kind: 'done', killReason: 'cpu_limit' });
  });

  it('close while warm: out of service first, the warm sandbox killed, closed', async () => {
    await slot.start();
    await slot.close(1000);
    expect(slot.state.kind).toBe('closed');
    expect(sandboxes[0]!.killed).toBe(true);
    expect(store.names().slice(2)).toEqual(['dead', 'dead']);
    expect(await slot.run('tok', job())).toEqual({ kind: 'refused', code: 'shutting_down' });
  });

  it('close during a job: the job finishes within the grace, then the slot is dead under its token', async () => {
    await slot.start();
    sandboxes[0]!.runFor = 100;
    const running = slot.run('tok', job());
    await until('running', () => slot.state.kind === 'running');
    await slot.close(5000);
    expect(await running).toMatchObject({ kind: 'done' });
    expect(sandboxes[0]!.killed).toBe(true); // after its run, as always
    expect(store.calls).toContainEqual(['dead', 'tok']);
    expect(slot.state.kind).toBe('closed');
    expect(sandboxes.every((s) => s.killed)).toBe(true); // the spare too
  });

  it('close during a job past the grace kills it', async () => {
    await slot.start();
    sandboxes[0]!.runFor = 10_000;
    const running = slot.run('tok', job());
    await until('running', () => slot.state.kind === 'running');
    await slot.close(50);
    expect(await running).toMatchObject({ kind: 'done', run: { exit: { signal: 'SIGKILL' } } });
    expect(store.calls).toContainEqual(['dead', 'tok']);
  });

  it('restore puts back a running job, or the warm sandbox', async () => {
    await slot.start();
    expect(await slot.restore()).toBe(true);
    expect(store.calls[store.calls.length - 1]).toEqual(['ready', '', sandboxes[0]!.pid]);
    sandboxes[0]!.runFor = 200;
    const running = slot.run('tok', job({ timeoutMs: 2000 }));
    await until('running', () => slot.state.kind === 'running');
    expect(await slot.restore()).toBe(true);
    expect(store.calls[store.calls.length - 1]).toEqual(['restoreJob', 'tok', 32_000]);
    await running;
  });

  it('registry writes that fail (Redis restarting) are retried until they succeed', async () => {
    store.failing.set('ready', 2);
    await slot.start();
    expect(store.names()).toEqual(['booting', 'ready', 'ready', 'ready']);
    expect(slot.state.kind).toBe('warm');
  });
});
