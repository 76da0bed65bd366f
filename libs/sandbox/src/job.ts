import type { Readable } from 'node:stream';
import { LANGUAGES, type CollectedFile, type ProgramFile } from '@corral/contracts';
import type { RunRequest } from './types';
import { stripTypes } from './typescript';

/**
 * The job protocol's worker side (the bootstrap is the other): the job goes to the sandbox as
 * one line of JSON on fd 3; when the job asked to `collect` files, the bootstrap answers on the
 * same fd with one line of them as the job ends through node's exit.
 */

/**
 * The one line a sandbox reads before it runs its job; with `nodePath` (the sandbox's runtime),
 * its TypeScript files also travel stripped of their types (see typescript.ts).
 */
export function jobLine(request: RunRequest, nodePath?: string): string {
  const files: readonly ProgramFile[] =
    request.files ?? [{ name: LANGUAGES[request.language ?? 'javascript'].main, content: request.code ?? '', encoding: 'utf8' }];
  const entry = request.entry ?? files[0]?.name ?? LANGUAGES.javascript.main;
  const collect = request.collect ?? [];
  const stripped = nodePath ? stripTypes(files, nodePath) : undefined;
  return `${JSON.stringify({ files, entry, args: request.args, collect, maxCollectBytes: collect.length > 0 ? (request.maxCollectBytes ?? 0) : 0, ...(stripped ? { stripped } : {}) })}\n`;
}

/** Room for the JSON around the collected files' base64. */
const OVERHEAD_BYTES = 64 * 1024;

/**
 * What the bootstrap answers on fd 3. It runs in the job's realm: the answer is the job's own
 * data, checked here for shape and size only, never trusted for anything else.
 */
export class JobCollector {
  private readonly chunks: Buffer[] = [];
  private bytes = 0;

  constructor(
    channel: Readable,
    private readonly maxBytes: number,
  ) {
    const limit = Math.ceil(maxBytes / 3) * 4 + OVERHEAD_BYTES;
    channel.on('data', (chunk: Buffer) => {
      if (this.bytes + chunk.length > limit) return;
      this.chunks.push(chunk);
      this.bytes += chunk.length;
    });
    channel.resume();
  }

  /** The files of the last whole line, within the cap; [] when there is none. */
  files(): CollectedFile[] {
    const lines = Buffer.concat(this.chunks).toString('utf8').split('\n');
    const last = lines.length > 1 ? lines[lines.length - 2] : '';
    let parsed: unknown;
    try {
      parsed = JSON.parse(last ?? '');
    } catch {
      return [];
    }
    const list = (parsed as { files?: unknown })?.files;
    if (!Array.isArray(list)) return [];
    const out: CollectedFile[] = [];
    let used = 0;
    for (const item of list.slice(0, 1000)) {
      const { name, size, content, truncated } = (item ?? {}) as Record<string, unknown>;
      if (typeof name !== 'string' || typeof size !== 'number' || typeof content !== 'string') continue;
      const bytes = Math.floor((content.length * 3) / 4);
      if (truncated === true || used + bytes > this.maxBytes) {
        out.push({ name: name.slice(0, 1024), size, content: '', truncated: true });
        continue;
      }
      used += bytes;
      out.push({ name: name.slice(0, 1024), size, content });
    }
    return out;
  }
}
