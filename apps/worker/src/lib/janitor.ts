import { spawn } from 'node:child_process';
import type { Writable } from 'node:stream';

export interface JanitorFolders {
  /** The worker's own cgroup folders: everything in them goes. */
  cgroups: readonly string[];
  /** Folders above them that other hosts may share: removed only when empty. */
  shared: readonly string[];
  /** Plain folders of the worker's (its staging folder). */
  trees: readonly string[];
}

/**
 * Starts corral-janitor, which removes the worker's folders once the worker is gone, a SIGKILL
 * included: it waits for the end of a pipe the worker holds (the kernel closes it when the
 * worker dies). In a session of its own, so that a signal to the worker's process group leaves
 * it to do its work; it exits as soon as that is done. `release` lets it go after a normal close,
 * which has removed everything already.
 */
export function startJanitor(path: string, folders: JanitorFolders): { release(): void } {
  const args = [
    '--owner',
    String(process.pid),
    ...folders.trees.flatMap((dir) => ['--rmtree', dir]),
    ...folders.cgroups.flatMap((dir) => ['--cgroup', dir]),
    ...folders.shared.flatMap((dir) => ['--rmdir-if-empty', dir]),
  ];
  if (args.length === 2) return { release: () => undefined };
  const child = spawn(path, args, { stdio: ['pipe', 'ignore', 'inherit'], detached: true });
  child.on('error', () => undefined);
  const pipe = child.stdin as Writable & { unref(): void };
  pipe.on('error', () => undefined);
  // Neither the janitor nor its pipe keeps the worker's event loop alive.
  pipe.unref();
  child.unref();
  return { release: () => pipe.end() };
}
