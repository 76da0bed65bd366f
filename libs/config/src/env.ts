/** The environment a loader reads: `process.env` in main.ts, a plain object in tests. */
export type Env = Readonly<Record<string, string | undefined>>;

/** Configuration that cannot be used; lists every problem at once, each naming its variable. */
export class ConfigError extends Error {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

interface IntOptions {
  min?: number;
  max?: number;
}

/**
 * Reads typed values from an environment, collecting problems instead of throwing at the first,
 * so that one start-up tells the operator everything that is wrong.
 */
export class EnvReader {
  private readonly problems: string[] = [];

  constructor(private readonly env: Env) {}

  private raw(name: string): string | undefined {
    const value = this.env[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  }

  string(name: string, fallback: string, pattern?: RegExp): string {
    const value = this.raw(name) ?? fallback;
    if (pattern && !pattern.test(value)) this.problems.push(`${name}=${JSON.stringify(value)} must match ${pattern}`);
    return value;
  }

  optionalString(name: string): string | undefined {
    return this.raw(name);
  }

  int(name: string, fallback: number, { min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER }: IntOptions = {}): number {
    const text = this.raw(name);
    if (text === undefined) return fallback;
    if (!/^-?\d+$/.test(text)) {
      this.problems.push(`${name}=${JSON.stringify(text)} must be a whole number`);
      return fallback;
    }
    const value = Number(text);
    if (value < min || value > max) {
      this.problems.push(`${name}=${value} must be between ${min} and ${max}`);
      return fallback;
    }
    return value;
  }

  oneOf<T extends string>(name: string, choices: readonly T[], fallback: T): T {
    const text = this.raw(name);
    if (text === undefined) return fallback;
    if (!(choices as readonly string[]).includes(text)) {
      this.problems.push(`${name}=${JSON.stringify(text)} must be one of: ${choices.join(', ')}`);
      return fallback;
    }
    return text as T;
  }

  url(name: string, fallback: string, protocols: readonly string[]): string {
    const text = this.raw(name) ?? fallback;
    try {
      const parsed = new URL(text);
      if (!protocols.includes(parsed.protocol)) {
        this.problems.push(`${name} must use ${protocols.join(' or ')}, got ${parsed.protocol}`);
      }
    } catch {
      this.problems.push(`${name}=${JSON.stringify(text)} is not a URL`);
    }
    return text;
  }

  /** Adds a problem found by a cross-field check. */
  problem(message: string): void {
    this.problems.push(message);
  }

  /** @throws ConfigError when any value was invalid */
  done<T extends object>(config: T): Readonly<T> {
    if (this.problems.length > 0) throw new ConfigError(this.problems);
    return deepFreeze(config);
  }
}

function deepFreeze<T extends object>(value: T): Readonly<T> {
  for (const inner of Object.values(value)) {
    if (typeof inner === 'object' && inner !== null && !Object.isFrozen(inner)) deepFreeze(inner);
  }
  return Object.freeze(value);
}
