import type { WorkerConfig } from '@corral/config';
import { JailRequirementError, prepareTypeScript, Sandbox, sandboxProfile, type SandboxOptions, type SandboxProfile } from '@corral/sandbox';
import type { Logger } from '@corral/service';

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

/**
 * Builds this host's sandbox profile, proves it with a probe sandbox, and says once which
 * layers are on and, for each that is off, why. `required` refuses to start when an OS layer is
 * off (bubblewrap missing, or failing its probe); `auto` goes on without it; a host where no
 * sandbox runs at all fails either way.
 */
export async function prepareSandboxes(config: Readonly<WorkerConfig>, log: Logger): Promise<SandboxProfile> {
  const profile = sandboxProfile(config);
  try {
    if (profile.staging.dir) {
      log.info({ dir: profile.staging.dir, because: profile.staging.reason }, 'staged the runtime and bootstrap where the sandbox uids can read them');
    }
    const swept = profile.jail.sweep();
    if (swept > 0) log.info({ swept }, 'removed cgroups left by an earlier run');
    const probeOptions = (): SandboxOptions => profile.options({ slotIndex: 0, heapMb: config.limits.defaultMemoryMb });
    let failure = await probe(probeOptions());
    if (failure && profile.jail.spec(0, 'probe', 1).bwrap) {
      if (profile.jail.mode === 'required') {
        throw new JailRequirementError({ namespaces: `failing: a sandbox inside bubblewrap did not run (${failure})` });
      }
      log.warn({ reason: failure }, 'sandboxes cannot run inside bubblewrap here; continuing without namespaces');
      profile.withoutNamespaces(`the probe failed (${failure})`);
      failure = await probe(probeOptions());
    }
    if (failure) throw new Error(`No sandbox can run on this host: ${failure}`);
    for (const layer of profile.jail.off) log.warn({ layer, why: profile.jail.layers[layer] }, `jail layer off: ${layer}`);
    // TypeScript stripped here, once per job, when this worker's amaro is the runtime's own (typescript.ts);
    // amaro itself loads at the first TypeScript job.
    const typescript = prepareTypeScript(profile.nodePath) ? 'stripped by the worker (amaro, as the runtime bundles it)' : 'stripped by each sandbox (the runtime bundles another amaro)';
    log.info({ mode: profile.jail.mode, layers: profile.jail.layers, typescript }, 'sandbox layers');
    return profile;
  } catch (err) {
    profile.release();
    throw err;
  }
}
