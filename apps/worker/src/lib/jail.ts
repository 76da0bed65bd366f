import type { WorkerConfig } from '@corral/config';
import {
  assertRequired,
  BOOTSTRAP_PATH,
  JailRequirementError,
  prepareJail,
  Sandbox,
  stageForSandboxes,
  sweepStaging,
  type PreparedJail,
  type SandboxOptions,
  type Staging,
} from '@corral/sandbox';
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

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

export interface WorkerJail {
  jail: PreparedJail;
  /** Where the runtime and bootstrap were staged for the sandbox uids (its `dir` is null when nothing had to be). */
  staging: Staging;
  /** Options for the sandbox of slot `slotIndex` with the given heap (in the slot's network namespace, if it has one). */
  options(slotIndex: number, heapMb: number, netns?: string): SandboxOptions;
}

/**
 * Sandboxes run as uids of their own when the worker is root: whatever they must read (the
 * runtime, the bootstrap) must be reachable by such a uid, wherever the checkout is.
 */
function stage(config: Readonly<WorkerConfig>, nodePath: string, log: Logger): Staging {
  const none: Staging = { paths: new Map([[nodePath, nodePath], [BOOTSTRAP_PATH, BOOTSTRAP_PATH]]), dir: null, reason: null, remove: () => undefined };
  if (process.getuid?.() !== 0 || config.sandboxJail === 'off') return none;
  const swept = sweepStaging(config.stageDir, isAlive);
  if (swept > 0) log.info({ swept }, 'removed staging folders of workers that are gone');
  const staging = stageForSandboxes(
    [
      { source: nodePath, executable: true },
      { source: BOOTSTRAP_PATH, executable: false },
    ],
    config.stageDir,
    `${config.hostId}-${process.pid}`,
  );
  if (staging.dir) log.info({ dir: staging.dir, because: staging.reason }, 'staged the runtime and bootstrap where the sandbox uids can read them');
  return staging;
}

/**
 * Decides the sandbox layers for this host, proves them with a probe sandbox, and says once
 * which layers are on and, for each that is off, why. `required` refuses to start when an OS
 * layer is off (bubblewrap missing, or failing its probe, say); `auto` goes on without it; a
 * host where nothing runs fails either way.
 */
export async function prepareWorkerJail(
  config: Readonly<WorkerConfig>,
  base: Omit<SandboxOptions, 'heapMb' | 'jail' | 'bootstrapPath'>,
  log: Logger,
): Promise<WorkerJail> {
  const staging = stage(config, base.nodePath, log);
  const nodePath = staging.paths.get(base.nodePath) ?? base.nodePath;
  const bootstrapPath = staging.paths.get(BOOTSTRAP_PATH) ?? BOOTSTRAP_PATH;
  let jail: PreparedJail | undefined;
  try {
    jail = prepareJail({
      mode: config.sandboxJail,
      hostId: config.hostId,
      nodePath,
      bootstrapPath,
      ...(config.bwrapPath ? { bwrapPath: config.bwrapPath } : {}),
      uidBase: config.sandboxUidBase,
      useCgroups: config.cgroups === 'auto',
      pidsMax: config.sandboxPidsMax,
      tmpMb: config.sandboxTmpMb,
      nprocMax: config.sandboxNprocMax,
    });
    assertRequired(jail);
    const swept = jail.sweep();
    if (swept > 0) log.info({ swept }, 'removed cgroups left by an earlier run');
    let sequence = 0;
    const current = (): PreparedJail => jail as PreparedJail;
    const options = (slotIndex: number, heapMb: number, netns?: string): SandboxOptions => ({
      ...base,
      nodePath,
      bootstrapPath,
      // Address space as a backstop behind the heap limit and the cgroup: the runtime maps about
      // 1.3 GiB at rest, and WebAssembly falls back to bounds checks when it cannot reserve more.
      rlimits: { ...base.rlimits, as: (ADDRESS_SPACE_BASE_MB + 2 * (heapMb + config.rssOverheadMb)) * MiB },
      heapMb,
      // Replacements boot behind the running jobs; as root the job gets its priority back (Sandbox.run).
      ...(process.getuid?.() === 0 ? { bootNice: BOOT_NICE } : {}),
      jail: {
        ...current().spec(slotIndex, `s${slotIndex}-${process.pid}-${(sequence += 1)}`, heapMb + config.rssOverheadMb),
        ...(netns ? { netns } : {}),
      },
    });

    let failure = await probe(options(0, config.limits.defaultMemoryMb));
    if (failure && jail.spec(0, 'probe', 1).bwrap) {
      if (jail.mode === 'required') throw new JailRequirementError({ namespaces: `failing: a sandbox inside bubblewrap did not run (${failure})` });
      log.warn({ reason: failure }, 'sandboxes cannot run inside bubblewrap here; continuing without namespaces');
      jail = jail.withoutNamespaces(`the probe failed (${failure})`);
      failure = await probe(options(0, config.limits.defaultMemoryMb));
    }
    if (failure) throw new Error(`No sandbox can run on this host: ${failure}`);
    for (const layer of jail.off) log.warn({ layer, why: jail.layers[layer] }, `jail layer off: ${layer}`);
    log.info({ mode: jail.mode, layers: jail.layers }, 'sandbox layers');
    return { jail, staging, options };
  } catch (err) {
    jail?.release();
    staging.remove();
    throw err;
  }
}
