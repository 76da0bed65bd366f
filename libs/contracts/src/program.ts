import { CorralError } from './errors';

/** The languages an execution may be written in, with the names a client may give for each. */
export const LANGUAGES = {
  javascript: { aliases: ['javascript', 'js', 'node', 'nodejs', 'node-js', 'node-javascript'], extensions: ['.js', '.mjs', '.cjs'], main: 'main.js' },
  typescript: { aliases: ['typescript', 'ts', 'node-typescript', 'node-ts'], extensions: ['.ts', '.mts', '.cts'], main: 'main.ts' },
} as const;
export type Language = keyof typeof LANGUAGES;

/** The language a client named, by any of its aliases; null when there is none such. */
export function languageNamed(name: string): Language | null {
  const wanted = name.toLowerCase();
  for (const [language, { aliases }] of Object.entries(LANGUAGES)) if ((aliases as readonly string[]).includes(wanted)) return language as Language;
  return null;
}

/** What an entry may be: a file node runs itself (`node <entry>`), by its extension. */
export const ENTRY_EXTENSIONS: readonly string[] = [...LANGUAGES.javascript.extensions, ...LANGUAGES.typescript.extensions];

/** One file of a program, as the worker hands it to the sandbox. */
export interface ProgramFile {
  /** A relative path: `lib/util.js`, `data/input.txt`. */
  name: string;
  content: string;
  encoding: 'utf8' | 'base64';
}

/** A file the job left in its working directory and the client asked for with `collect`. */
export interface CollectedFile {
  name: string;
  size: number;
  /** Base64; empty when it did not fit (then `truncated`). */
  content: string;
  truncated?: boolean;
}

/** Bounds on the files of one execution. */
export interface ProgramLimits {
  maxFiles: number;
  /** The files' decoded bytes together. */
  maxFilesBytes: number;
  maxCollect: number;
}

const NAME_BYTES = 1024;
const SEGMENT_BYTES = 255;
// Control characters (C0, DEL) have no place in a file name a client sends.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;
const BASE64_CHARS = /^[A-Za-z0-9+/]*={0,2}$/;

/** Standard base64 with its padding (one character class: megabytes of it without deep backtracking). */
function isBase64(text: string): boolean {
  return text.length % 4 === 0 && BASE64_CHARS.test(text);
}

/**
 * Why `name` cannot be a path inside the working directory, or null when it can: relative,
 * `/`-separated, no `.` or `..` segment, no empty segment, no control character.
 */
export function pathProblem(name: string): string | null {
  if (name.length === 0) return 'is empty';
  if (CONTROL.test(name)) return 'holds a control character';
  if (name.startsWith('/')) return 'is absolute';
  if (new TextEncoder().encode(name).length > NAME_BYTES) return `is longer than ${NAME_BYTES} bytes`;
  for (const segment of name.split('/')) {
    if (segment === '') return 'has an empty segment';
    if (segment === '.' || segment === '..') return `has a "${segment}" segment`;
    if (new TextEncoder().encode(segment).length > SEGMENT_BYTES) return `has a segment longer than ${SEGMENT_BYTES} bytes`;
  }
  return null;
}

function decodedBytes(file: ProgramFile): number {
  if (file.encoding === 'utf8') return new TextEncoder().encode(file.content).length;
  const padding = file.content.endsWith('==') ? 2 : file.content.endsWith('=') ? 1 : 0;
  return (file.content.length / 4) * 3 - padding;
}

/**
 * Checks `files` (as the client sent them), `entry` and `collect`; returns them with defaults.
 * @throws CorralError invalid_request, payload_too_large
 */
export function parseProgramFiles(
  input: { files: unknown; entry: unknown; collect: unknown },
  limits: ProgramLimits,
  problems: string[],
): { files: ProgramFile[]; entry: string; collect: string[] } | null {
  const before = problems.length;
  const files: ProgramFile[] = [];
  if (!Array.isArray(input.files) || input.files.length === 0) {
    problems.push('files must be a non-empty array of { name, content, encoding? }');
    return null;
  }
  if (input.files.length > limits.maxFiles) {
    throw new CorralError('payload_too_large', `${input.files.length} files; the limit is ${limits.maxFiles}.`);
  }
  const seen = new Set<string>();
  for (const [i, raw] of input.files.entries()) {
    const file = raw as Record<string, unknown>;
    const at = `files[${i}]`;
    if (typeof file !== 'object' || file === null || Array.isArray(file)) {
      problems.push(`${at} must be an object`);
      continue;
    }
    const extra = Object.keys(file).filter((k) => !['name', 'content', 'encoding'].includes(k));
    if (extra.length > 0) problems.push(`${at} has unknown fields (allowed: name, content, encoding)`);
    const { name, content, encoding = 'utf8' } = file;
    if (typeof name !== 'string') {
      problems.push(`${at}.name must be a string`);
      continue;
    }
    const problem = pathProblem(name);
    if (problem) problems.push(`${at}.name ${JSON.stringify(name.slice(0, 60))} ${problem}`);
    else if (seen.has(name)) problems.push(`${at}.name ${JSON.stringify(name.slice(0, 60))} is there twice`);
    seen.add(name);
    if (typeof content !== 'string') problems.push(`${at}.content must be a string`);
    if (encoding !== 'utf8' && encoding !== 'base64') problems.push(`${at}.encoding must be "utf8" or "base64"`);
    else if (encoding === 'base64' && typeof content === 'string' && !isBase64(content)) problems.push(`${at}.content is not valid base64`);
    if (typeof content === 'string' && (encoding === 'utf8' || encoding === 'base64')) files.push({ name, content, encoding });
  }
  const entry = input.entry === undefined ? files[0]?.name : input.entry;
  if (typeof entry !== 'string') problems.push('entry must be a string: the name of one of the files');
  else if (!seen.has(entry)) problems.push(`entry ${JSON.stringify(entry.slice(0, 60))} is not among the files`);
  else if (!ENTRY_EXTENSIONS.some((ext) => entry.endsWith(ext))) problems.push(`entry must end in ${ENTRY_EXTENSIONS.join(', ')} (node runs it as its main module)`);
  const collect = parseCollect(input.collect, limits, problems);
  if (problems.length > before) return null;
  const bytes = files.reduce((sum, f) => sum + decodedBytes(f), 0);
  if (bytes > limits.maxFilesBytes) throw new CorralError('payload_too_large', `The files hold ${bytes} bytes; the limit is ${limits.maxFilesBytes}.`);
  return { files, entry: entry as string, collect };
}

/** `collect`: globs relative to the working directory (`out/*.csv`, `**\/*.json`), none escaping it. */
export function parseCollect(value: unknown, limits: ProgramLimits, problems: string[]): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((g) => typeof g === 'string')) {
    problems.push('collect must be an array of glob patterns (strings)');
    return [];
  }
  if (value.length > limits.maxCollect) problems.push(`collect may hold at most ${limits.maxCollect} patterns`);
  for (const glob of value as string[]) {
    const problem = pathProblem(glob);
    if (problem) problems.push(`collect pattern ${JSON.stringify(glob.slice(0, 60))} ${problem}: it must stay inside the working directory`);
  }
  return value as string[];
}
