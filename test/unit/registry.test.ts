import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { App } from '@slack/bolt';
import { describe, expect, it } from 'vitest';
import { type HandlerContext, registerHandlers } from '../../src/commands/index.js';
import { ACTION_IDS, BOT_EVENTS, SLASH_COMMAND, VIEW_CALLBACK_IDS } from '../../src/slack-ids.js';

describe('what the code registers', () => {
  it('is exactly what manifest.yml and the views declare (slack-ids.ts)', () => {
    const seen = {
      commands: [] as string[],
      actions: [] as string[],
      views: [] as string[],
      events: [] as string[],
    };
    const app = {
      command: (name: string) => void seen.commands.push(name),
      event: (name: string) => void seen.events.push(name),
      action: (id: string) => void seen.actions.push(id),
      view: (id: string) => void seen.views.push(id),
    } as unknown as App;
    registerHandlers(app, {} as HandlerContext);
    expect(seen.commands).toEqual([SLASH_COMMAND]);
    expect([...seen.actions].sort()).toEqual([...ACTION_IDS].sort());
    expect([...seen.views].sort()).toEqual([...VIEW_CALLBACK_IDS].sort());
    expect([...seen.events].sort()).toEqual([...BOT_EVENTS].sort());
  });

  // A literal id in a registration would still pass the test above until someone renamed the
  // constant; registering from the registry's names makes the rename one edit.
  it('registers every handler from the registry, never from a string literal', () => {
    const dir = join(import.meta.dirname, '..', '..', 'src', 'commands');
    for (const file of ['slash.ts', 'actions.ts', 'modals.ts', 'home.ts']) {
      const text = readFileSync(join(dir, file), 'utf8');
      const calls = [...text.matchAll(/app\.(?:command|action|view|event)\b[^(]*\(([^,]+),/g)].map((m) =>
        m[1]?.trim(),
      );
      expect(calls.length, file).toBeGreaterThan(0);
      for (const first of calls)
        expect(first, file).toMatch(/^(SLASH_COMMAND|ACTION\.\w+|VIEW_CALLBACK\.\w+|APP_HOME_OPENED)$/);
    }
  });
});
