/** One step of the bot's schema; a leaf, so migration files and the runner share it without a cycle. */
export interface Migration {
  /** `NNNN_name`; applied in this order, recorded in `schema_migrations`. */
  id: string;
  /** `s` is the already-quoted schema name. */
  sql: (s: string) => string;
}
