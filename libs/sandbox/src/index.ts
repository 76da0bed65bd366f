export { bwrapArgs, JAILED_BOOTSTRAP, JAILED_NODE, prepareJail, sharedLibraries, type JailRequest, type JailSpec, type PreparedJail } from './jail';
export { BOOTSTRAP_PATH, PINNED_RUNTIME_PATH, resolveSandboxNode, resolveSpawnHelper, SPAWN_HELPER_PATH } from './paths';
export { Sandbox, type RunRequest, type RunResult, type SandboxExit, type SandboxOptions } from './sandbox';
