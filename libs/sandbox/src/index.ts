export {
  assertRequired,
  bwrapArgs,
  JailRequirementError,
  JAILED_BOOTSTRAP,
  JAILED_ENTRY,
  JAILED_NODE,
  JAILED_PACKAGES,
  JAILED_WORK,
  OS_LAYERS,
  prepareJail,
  sharedLibraries,
  type JailMode,
  type JailRequest,
  type JailSpec,
  type PreparedJail,
} from './jail';
export { BOOTSTRAP_PATH, DEFAULT_PACKAGES_DIR, isExecutable, JANITOR_PATH, PINNED_RUNTIME_PATH, resolveJanitor, resolveSandboxNode, resolveSpawnHelper, SPAWN_HELPER_PATH } from './paths';
export { stageForSandboxes, sweepStaging, unreachableBecause, type StagedFile, type Staging } from './stage';
export { Sandbox, type LiveOutput, type RunRequest, type RunResult, type SandboxExit, type SandboxOptions } from './sandbox';
export { BASE_RLIMITS, BOOT_NICE, sandboxProfile, type SandboxProfile, type SandboxProfileSettings, type SandboxRequest } from './profile';
export { loadPackageSet, PackageSetError, type PackageInfo, type PackageSet } from './packages';
export { jobLine } from './job';
export { jailedProgramArgs } from './launcher';
export { prepareTypeScript, STRIP_MAX_BYTES, stripTypes } from './typescript';
