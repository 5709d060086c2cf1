import type { Migration } from './migrations.js';

export const DELIVERY_MIGRATIONS: readonly Migration[] = [];
