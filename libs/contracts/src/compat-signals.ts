/**
 * Linux signal numbers by name, for the adapters whose originals report signals as numbers
 * (Judge0's `exit_signal`, isolate's "Caught fatal signal N"). A table, not `os.constants`:
 * contracts runs in browsers too.
 */
export const SIGNAL_NUMBERS: Readonly<Record<string, number>> = Object.freeze({
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGILL: 4,
  SIGTRAP: 5,
  SIGABRT: 6,
  SIGBUS: 7,
  SIGFPE: 8,
  SIGKILL: 9,
  SIGUSR1: 10,
  SIGSEGV: 11,
  SIGUSR2: 12,
  SIGPIPE: 13,
  SIGALRM: 14,
  SIGTERM: 15,
  SIGXCPU: 24,
  SIGXFSZ: 25,
  SIGSYS: 31,
});

/** The number of a signal named as corral names them (`SIGKILL`), or null. */
export function signalNumber(name: string | null): number | null {
  return name === null ? null : (SIGNAL_NUMBERS[name] ?? null);
}
