/**
 * The Redis key schema: no other code builds a key string. Every key carries the prefix as a
 * hash tag (`{prefix}:…`) so that all of them live in one Redis Cluster slot and the
 * multi-key Lua scripts stay valid there.
 */
export interface KeySchema {
  /** A KEYS/SCAN pattern that matches every key of this prefix (and no other). */
  prefixPattern: string;
  /** SET of every slot id. */
  slots: string;
  /** SET of one host's slot ids. */
  hostSlots(host: string): string;
  /** HASH of one slot's record. */
  slot(id: string): string;
  /** What `slot(id)` starts with (passed to scripts that visit many slots). */
  slotPrefix: string;
  /** LIST of idle slot ids, longest idle first; an idle slot is in it exactly once. */
  idle: string;
  /** ZSET slot id -> lease expiry in ms. */
  leases: string;
  /** SET of the slot ids running a job on one host, read by that host's watchdog. */
  running(host: string): string;
  /** What `running(host)` starts with. */
  runningPrefix: string;
  /**
   * HASH of the job running on a slot, as the watchdog sees it: the fields of RunningSandbox
   * (`cgroup`, when there is one, as JSON). It exists exactly while the slot is in `running(host)`.
   */
  job(slotId: string): string;
  /** What `job(slotId)` starts with. */
  jobPrefix: string;
  /** LIST of waiting tickets, oldest first: the queue shared by every router. */
  waiters: string;
  /** HASH of one waiting ticket: deadline, router, token, requestId, claimTtlMs. */
  ticket(ticket: string): string;
  /** What `ticket(ticket)` starts with. */
  ticketPrefix: string;
  /** HASH (with a TTL) of the lease assigned to a ticket until its router takes it: slotId, ip, port, host, token. */
  assigned(ticket: string): string;
  assignedPrefix: string;
  /** Pub/sub channel of one router: "assigned <ticket>". */
  routerChannel(router: string): string;
  routerChannelPrefix: string;
  /** Pub/sub channel: "inventory <host>" and "running <host>" events. */
  events: string;
  /** STRING: a random value written once; when it is gone, Redis lost its data. */
  epoch: string;
  /** STRING with a TTL, refreshed by a host's worker while it runs. */
  heartbeat(host: string): string;
  /** SET of the hosts that published a `hostInfo`. */
  hosts: string;
  /** STRING (JSON HostInfo) with the heartbeat's TTL: what a host's worker says of its jail and runtime. */
  hostInfo(host: string): string;
  /** HASH of counters shared by the services (watchdog kills by reason). */
  stats: string;
  /** ZSET of one API key's requests in flight (request id -> expiry ms). */
  keyInFlight(keyName: string): string;
  /** STRING counter of one API key's requests in the current rate window. */
  keyRate(keyName: string, window: number): string;
  /**
   * HASH (with a TTL) of an execution kept in the background: state, createdAt, startedAt,
   * finishedAt, attempts, cancelRequested, result or error (JSON), webhook (JSON), batchId,
   * tag (a compat API's own note on it, opaque to corral).
   */
  execution(id: string): string;
  /** HASH (with a TTL) of a batch: createdAt, members (JSON array of execution ids). */
  batch(id: string): string;
  /** Pub/sub channel: "cancel <execution id>", heard by every router. */
  cancels: string;
  /** What BullMQ's keys start with (its `prefix` option): inside the hash tag, beside the registry's. */
  queuePrefix: string;
}

export function keySchema(prefix: string): KeySchema {
  const p = `{${prefix}}`;
  return {
    prefixPattern: `${p}:*`,
    slots: `${p}:slots`,
    hostSlots: (host) => `${p}:host:${host}:slots`,
    slot: (id) => `${p}:slot:${id}`,
    slotPrefix: `${p}:slot:`,
    idle: `${p}:idle`,
    leases: `${p}:leases`,
    // `jobs:`, not `running:`: a Redis may still hold `running:<host>` HASHes written by earlier
    // versions, and a SET under that name would fail with WRONGTYPE.
    running: (host) => `${p}:jobs:${host}`,
    runningPrefix: `${p}:jobs:`,
    job: (slotId) => `${p}:job:${slotId}`,
    jobPrefix: `${p}:job:`,
    waiters: `${p}:waiters`,
    ticket: (ticket) => `${p}:ticket:${ticket}`,
    ticketPrefix: `${p}:ticket:`,
    assigned: (ticket) => `${p}:assigned:${ticket}`,
    assignedPrefix: `${p}:assigned:`,
    routerChannel: (router) => `${p}:router:${router}`,
    routerChannelPrefix: `${p}:router:`,
    events: `${p}:events`,
    epoch: `${p}:epoch`,
    heartbeat: (host) => `${p}:heartbeat:${host}`,
    hosts: `${p}:hosts`,
    hostInfo: (host) => `${p}:hostinfo:${host}`,
    stats: `${p}:stats`,
    keyInFlight: (keyName) => `${p}:key:${keyName}:inflight`,
    keyRate: (keyName, window) => `${p}:key:${keyName}:rate:${window}`,
    execution: (id) => `${p}:execution:${id}`,
    batch: (id) => `${p}:batch:${id}`,
    cancels: `${p}:cancels`,
    queuePrefix: `${p}:bull`,
  };
}
