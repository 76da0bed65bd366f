import type { WorkerConfig } from '@corral/config';
import { BOOTSTRAP_PATH, prepareJail, Sandbox, type PreparedJail, type SandboxOptions } from '@corral/sandbox';
import type { Logger } from '@corral/service';

const MiB = 1024 * 1024;
const BOOT_NICE = 10;
const ADDRESS_SPACE_BASE_MB = 2048;

/** The probe every jail must pass before a slot boots: a tiny job that must answer "ok". */
const PROBE = { code: 'console.log("probe", 6 * 7)', expected: 'probe 42\n' };

async function probe(options: SandboxOptions): Promise<string | null> {
  const sandbox = new Sandbox(options);
  try {
    await sandbox.ready;
    const run = await sandbox.run({ code: PROBE.code, args: [], stdin: '', timeoutMs: 10_000, maxOutputBytes: 4096 });
    const out = run.stdout.toString();
    if (run.exit.exitCode === 0 && out === PROBE.expected) return null;
    return `probe answered exit ${run.exit.exitCode ?? run.exit.signal} with ${JSON.stringify(out || run.stderr.toString().slice(0, 300))}`;
  } catch (err) {
    return (err as Error).message;
  } finally {
    sandbox.kill();
  }
}

export interface WorkerJail {
  jail: PreparedJail;
  /** Options for the sandbox of slot `slotIndex` with the given heap (in the slot's network namespace, if it has one). */
  options(slotIndex: number, heapMb: number, netns?: string): SandboxOptions;
}

/**
 * Decides the sandbox layers for this host, proves them with a probe sandbox, and says once
 * which layers are on and why any is off. A host where bubblewrap cannot run (no user
 * namespaces, say) falls back to the layers without it; a host where nothing runs fails.
 */
export async function prepareWorkerJail(
  config: Readonly<WorkerConfig>,
  base: Omit<SandboxOptions, 'heapMb' | 'jail'>,
  log: Logger,
): Promise<WorkerJail> {
  let jail = prepareJail({
    mode: config.sandboxJail,
    hostId: config.hostId,
    nodePath: base.nodePath,
    bootstrapPath: BOOTSTRAP_PATH,
    ...(config.bwrapPath ? { bwrapPath: config.bwrapPath } : {}),
    uidBase: config.sandboxUidBase,
    useCgroups: config.cgroups === 'auto',
    pidsMax: config.sandboxPidsMax,
    tmpMb: config.sandboxTmpMb,
    nprocMax: config.sandboxNprocMax,
  });
  const swept = jail.sweep();
  if (swept > 0) log.info({ swept }, 'removed cgroups left by an earlier run');
  let sequence = 0;
  const options = (slotIndex: number, heapMb: number, netns?: string): SandboxOptions => ({
    ...base,
    // Address space as a backstop behind the heap limit and the cgroup: the runtime maps about
    // 1.3 GiB at rest, and WebAssembly falls back to bounds checks when it cannot reserve more.
    rlimits: { ...base.rlimits, as: (ADDRESS_SPACE_BASE_MB + 2 * (heapMb + config.rssOverheadMb)) * MiB },
    heapMb,
    // Replacements boot behind the running jobs; as root the job gets its priority back (Sandbox.run).
    ...(process.getuid?.() === 0 ? { bootNice: BOOT_NICE } : {}),
    jail: {
      ...jail.spec(slotIndex, `s${slotIndex}-${process.pid}-${(sequence += 1)}`, heapMb + config.rssOverheadMb),
      ...(netns ? { netns } : {}),
    },
  });

  let failure = await probe(options(0, config.limits.defaultMemoryMb));
  if (failure && jail.spec(0, 'probe', 1).bwrap) {
    log.warn({ reason: failure }, 'sandboxes cannot run inside bubblewrap here; continuing without namespaces');
    jail = jail.withoutNamespaces(`the probe failed (${failure})`);
    failure = await probe(options(0, config.limits.defaultMemoryMb));
  }
  if (failure) throw new Error(`No sandbox can run on this host: ${failure}`);
  log.info({ layers: jail.layers }, 'sandbox layers');
  return { jail, options };
}
