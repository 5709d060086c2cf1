// No imports, on purpose: `zeus-recover --help` loads this file alone (natively on Node 24, no
// TypeScript loader), so an SRE gets the usage in a fraction of a second.
export const USAGE = `Usage: zeus-recover <command> [options]

Read-only
  inspect <id>                      every tier's copy, side by side, and the best source
  validate <id>                     schema, integrity and cross-tier agreement, with a verdict
  diff <id> --from <source>         what a restore from <source> would change in Redis
  export <id> [--tier redis|postgres|s3] [--out <file>]
                                    the stored bytes, unchanged (stdout unless --out)
  list [pattern] [--limit N] [--cursor C]
                                    active conversations in Redis (SCAN, never KEYS)
  audit verify                      check the audit log's hash chain

Destructive (need --yes and --reason; audited with your OS user)
  restore <id> --from <source>      source: postgres | s3 | backup:<backupId> | file:<path>
  undo <backupId>                   put back what a restore overwrote
  replay <id> --from-step N         ask Zeus to re-run steps N..last, then follow it to the end
                                    (needs ZEUS_API_URL and ZEUS_API_TOKEN)

Maintenance
  migrate                           create or update the bot's own Postgres schema

Options
  --json          machine-readable output
  --yes           confirm a destructive command
  --reason <text> why (recorded in the audit log)
  -h, --help      this text

Exit codes: 0 ok · 1 problems found or operation failed · 2 usage or configuration error
Configuration comes from the environment (REDIS_URL, DATABASE_URL, S3_*, …; see README).`;
