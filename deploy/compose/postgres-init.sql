-- Runs once, when the compose Postgres volume is created: Zeus's own history table, as Zeus
-- creates it (design.md). The bot creates its own schema (zeus_recover) itself at start.
CREATE TABLE IF NOT EXISTS conversations (
  id text PRIMARY KEY,
  state jsonb NOT NULL,
  updated_at timestamptz NOT NULL
);
