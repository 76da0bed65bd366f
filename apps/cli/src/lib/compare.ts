import type { Compare } from '@corral/contracts';
import { UsageError } from './usage';

/** The named modes of `compare` (the contracts' COMPARE_MODES, checked by type: not loaded for a flag). */
const MODES = ['exact', 'trim', 'tokens'] as const satisfies readonly Exclude<Compare, object>[];

/** `--compare exact|trim|tokens|float:1e-6`. @throws UsageError */
export function parseCompare(value: string | undefined): Compare {
  if (value === undefined) return 'trim';
  if ((MODES as readonly string[]).includes(value)) return value as Compare;
  const float = /^float:(.+)$/.exec(value);
  if (float && Number(float[1]) > 0) return { float: Number(float[1]) };
  throw new UsageError(`--compare must be exact, trim, tokens or float:TOLERANCE, not "${value}"`);
}
