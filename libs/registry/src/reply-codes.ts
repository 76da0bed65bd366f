/**
 * Every reply code a Lua script can give, defined once: scripts see the same names as a `REPLY`
 * table in a preamble prepended at load time (`luaPreamble`), so no script writes a bare number,
 * and each code means one thing in every script. A script replies with a code alone or with a
 * table whose first element is the code. Negative codes are refusals: the script changed nothing.
 */
export const REPLY = {
  /** Done as asked (a job started, a state changed, a kill recorded, a request admitted…). */
  OK: 1,
  /** The slot joined the end of the idle list. */
  IDLE: 2,
  /** The slot went to the oldest waiting request instead of the idle list. */
  ASSIGNED: 3,
  /** Nothing to do: the slot was idle already. */
  ALREADY_IDLE: 4,
  /** A lease follows, as field/value pairs (slotId, ip, port, host, token). */
  CLAIMED: 5,
  /** The ticket waits in the shared queue. */
  QUEUED: 6,
  /** The ticket was withdrawn before a slot was assigned to it; an execution was cancelled before it started. */
  CANCELLED: 7,
  /** A running execution is marked to be stopped. */
  CANCEL_REQUESTED: 8,
  /** A request of background work found no idle slot beyond the reserve kept for waiting clients: it was not queued; it asks again. */
  RESERVED: 9,
  /** No such slot. */
  NO_SLOT: -1,
  /** The slot is not held under the caller's token (another lease holds it, or none does). */
  NOT_HOLDER: -2,
  /** The token has already started its job: it cannot start one again, nor be given back. */
  TOKEN_USED: -3,
  /** The token holds the slot, but its job has not started yet. */
  NOT_STARTED: -4,
  /** The slot is in service (idle or busy), not out of it. */
  IN_SERVICE: -5,
  /** Redis no longer knows the ticket (it lost its data, or the ticket was taken). */
  TICKET_LOST: -6,
  /** The API key sent as many requests as its rate allows in this window. */
  OVER_RATE: -7,
  /** The API key has as many requests in flight as it may. */
  OVER_CONCURRENCY: -8,
  /** The host's worker beats again: its slots stay in service. */
  HOST_ALIVE: -9,
  /** The execution has its final state already. */
  FINAL: -10,
  /** No such execution record (never made, or expired). */
  NO_RECORD: -11,
} as const;

export type ReplyName = keyof typeof REPLY;

const NAME_OF = new Map<number, ReplyName>(Object.entries(REPLY).map(([name, code]) => [code, name as ReplyName]));

/** The Lua side of `REPLY`: a local table of the same names and numbers. */
export function luaPreamble(): string {
  const fields = Object.entries(REPLY).map(([name, code]) => `${name} = ${code}`);
  return `local REPLY = { ${fields.join(', ')} }\n`;
}

/** A script answered something its wrapper does not expect: a bug on one side, never an outcome. */
export class RegistryReplyError extends Error {
  constructor(
    readonly script: string,
    readonly reply: unknown,
  ) {
    super(`script ${script} gave an unexpected reply: ${JSON.stringify(reply)}`);
    this.name = 'RegistryReplyError';
  }
}

/**
 * The one place where a script's numeric reply becomes a name: the code (alone, or first in a
 * table) must be one `expected` of this script. @throws RegistryReplyError otherwise
 */
export function readReply<const N extends ReplyName>(script: string, reply: unknown, expected: readonly N[]): { code: N; rest: unknown[] } {
  const [code, rest] = Array.isArray(reply) ? [reply[0], reply.slice(1)] : [reply, []];
  const name = typeof code === 'number' ? NAME_OF.get(code) : undefined;
  if (name === undefined || !(expected as readonly string[]).includes(name)) throw new RegistryReplyError(script, reply);
  return { code: name as N, rest };
}
