import type { Connection } from '../connection';
import type { KeySchema } from '../keys';
import type { Scripts } from '../script-wrappers';

/** What every facet is built on: the connection (plain commands), the script wrappers, the key schema. */
export interface FacetDeps {
  connection: Connection;
  scripts: Scripts;
  keys: KeySchema;
}
