import type { Migration } from './migrations.js';

export const REQUEST_MIGRATIONS: readonly Migration[] = [];
