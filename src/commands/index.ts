import type { App } from '@slack/bolt';
import { registerActions } from './actions.js';
import type { HandlerContext } from './context.js';
import { registerHome } from './home.js';
import { registerModals } from './modals.js';
import { registerSlashCommand } from './slash.js';

/** Only wiring: one registration per kind of Slack request. */
export function registerHandlers(app: App, ctx: HandlerContext): void {
  registerSlashCommand(app, ctx);
  registerActions(app, ctx);
  registerModals(app, ctx);
  registerHome(app, ctx);
}

export type { HandlerContext } from './context.js';
