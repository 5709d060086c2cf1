import type pg from 'pg';
import { quoteIdent } from './sql.js';

/** Postgres's codes for "that schema or table does not exist": no bot schema, so no thread either. */
const NO_SUCH_RELATION = new Set(['42P01', '3F000']);

/**
 * The channel of a conversation's incident thread, so a face with no chat of its own (the CLI)
 * can tell its part of the story there: an audit entry delivered to this channel lands in that
 * thread. The most recently opened thread wins when the conversation has threads in several
 * channels. Null when there is none, or when the bot's schema was never created here.
 */
export async function incidentThreadChannel(
  pool: pg.Pool,
  schema: string,
  conversationId: string,
): Promise<string | null> {
  try {
    // No index leads with conversation_id: there is one row per thread ever opened, few enough to scan.
    const res = await pool.query<{ channel_id: string }>(
      `SELECT channel_id FROM ${quoteIdent(schema)}.incident_threads
        WHERE conversation_id = $1 ORDER BY created_at DESC LIMIT 1`,
      [conversationId],
    );
    return res.rows[0]?.channel_id ?? null;
  } catch (err) {
    if (NO_SUCH_RELATION.has((err as { code?: string }).code ?? '')) return null;
    throw err;
  }
}
