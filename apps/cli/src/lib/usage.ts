/** A mistake in how `corral` was called (exit 2, with the usage): a bad flag value, a file that cannot be read. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Parses a positive integer flag value (commander's argParser), or says which flag is wrong. */
export function positiveInt(flag: string): (value: string) => number {
  return (value) => {
    if (!/^\d+$/.test(value) || Number(value) < 1) throw new UsageError(`${flag} must be a positive integer, not "${value}"`);
    return Number(value);
  };
}
