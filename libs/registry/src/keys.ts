/**
 * The Redis key schema: no other code builds a key string. Every key carries the prefix as a
 * hash tag (`{prefix}:…`) so that all of them live in one Redis Cluster slot and the
 * multi-key Lua scripts stay valid there.
 */
export interface KeySchema {
  /** SET of every slot id. */
  slots: string;
  /** SET of one host's slot ids. */
  hostSlots(host: string): string;
  /** HASH of one slot's record. */
  slot(id: string): string;
  /** What `slot(id)` starts with (passed to scripts that visit many slots). */
  slotPrefix: string;
  /** LIST of idle slot ids, longest idle first. */
  idle: string;
  /** ZSET slot id -> lease expiry in ms. */
  leases: string;
  /** HASH slot id -> running sandbox (JSON), one per host, read by that host's watchdog. */
  running(host: string): string;
  /** What `running(host)` starts with. */
  runningPrefix: string;
  /** Pub/sub channel: "idle <slot>" and "inventory <host>" events. */
  events: string;
}

export function keySchema(prefix: string): KeySchema {
  const p = `{${prefix}}`;
  return {
    slots: `${p}:slots`,
    hostSlots: (host) => `${p}:host:${host}:slots`,
    slot: (id) => `${p}:slot:${id}`,
    slotPrefix: `${p}:slot:`,
    idle: `${p}:idle`,
    leases: `${p}:leases`,
    running: (host) => `${p}:running:${host}`,
    runningPrefix: `${p}:running:`,
    events: `${p}:events`,
  };
}
