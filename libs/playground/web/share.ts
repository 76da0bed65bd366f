/** What a share link holds: everything needed to run the same program again. */
export interface SharedProgram {
  language: 'javascript' | 'typescript';
  code: string;
  stdin?: string;
  args?: string[];
  tests?: { stdin: string; expected: string }[];
}

const PREFIX = '#p=';

function toBase64Url(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64Url(text: string): Uint8Array {
  const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

/** The URL fragment for `program`: `#p=` and its JSON, UTF-8, base64url (the fragment never reaches a server). */
export function encodeShare(program: SharedProgram): string {
  return PREFIX + toBase64Url(new TextEncoder().encode(JSON.stringify(program)));
}

/** The program a fragment holds, or null when it holds none (or something unreadable). */
export function decodeShare(hash: string): SharedProgram | null {
  if (!hash.startsWith(PREFIX)) return null;
  try {
    const value = JSON.parse(new TextDecoder().decode(fromBase64Url(hash.slice(PREFIX.length)))) as Partial<SharedProgram>;
    if (typeof value.code !== 'string') return null;
    const program: SharedProgram = { language: value.language === 'typescript' ? 'typescript' : 'javascript', code: value.code };
    if (typeof value.stdin === 'string') program.stdin = value.stdin;
    if (Array.isArray(value.args)) program.args = value.args.map(String);
    if (Array.isArray(value.tests)) program.tests = value.tests.map((t) => ({ stdin: String(t?.stdin ?? ''), expected: String(t?.expected ?? '') }));
    return program;
  } catch {
    return null;
  }
}
