/** The internal request a router sends to a worker on a slot's address. */
export const WORKER_RUN_PATH = '/internal/v1/run';
/**
 * How long a worker keeps an unused connection from a router open. Routers keep connections to
 * the slots between jobs and close them sooner themselves (see the router's proxy).
 */
export const WORKER_KEEP_ALIVE_MS = 30_000;
/** Carries the slot's one-time lease token from router to worker. */
export const TOKEN_HEADER = 'x-corral-token';
/** Carries the execution id, so that every log line of one execution can be found. */
export const REQUEST_ID_HEADER = 'x-corral-request-id';
/** A worker's answer carries the execution status here, so the router can count it unparsed. */
export const STATUS_HEADER = 'x-corral-status';
/**
 * Every error answer of a worker names its catalogue code here (bad_token, slot_busy…), so the
 * router tells a job that never started from an answer to it without guessing from the status.
 */
export const ERROR_HEADER = 'x-corral-error';
/** Host ids and key prefixes: what may appear inside a Redis key or an interface name. */
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
