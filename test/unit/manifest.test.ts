import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv, type AnySchemaObject, type ValidateFunction } from 'ajv';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  ACTION_IDS,
  BOT_EVENTS,
  REQUIRED_BOT_SCOPES,
  SLASH_COMMAND,
  VIEW_CALLBACK_IDS,
} from '../../src/slack-ids.js';

const repoRoot = new URL('../../', import.meta.url);
const manifestPath = fileURLToPath(new URL('manifest.yml', repoRoot));
// Vendored with its MIT licence, so a bare clone validates the manifest with nothing beside it.
const schemaPath = fileURLToPath(
  new URL('vendor/slack-manifest-schema/manifest.schema.1.0.0.json', repoRoot),
);

interface Manifest {
  display_information: { name: string; description?: string; background_color?: string };
  features: {
    bot_user: { display_name: string; always_online?: boolean };
    slash_commands: {
      command: string;
      url: string;
      description: string;
      usage_hint?: string;
      should_escape?: boolean;
    }[];
  };
  oauth_config: { scopes: { bot: string[] } };
  settings: {
    interactivity: { is_enabled: boolean; request_url?: string };
    org_deploy_enabled?: boolean;
    socket_mode_enabled?: boolean;
    token_rotation_enabled?: boolean;
  };
}

function loadManifest(): Manifest {
  return parse(readFileSync(manifestPath, 'utf8')) as Manifest;
}

function compileSchema(): ValidateFunction {
  if (!existsSync(schemaPath)) {
    throw new Error(
      `Slack manifest schema not found at ${schemaPath}: it is vendored in the repository; restore it from git.`,
    );
  }
  const schema = JSON.parse(readFileSync(schemaPath, 'utf8')) as AnySchemaObject;
  const draft = String(schema.$schema ?? '');
  // Slack's schema spells one pattern as a non-standard `regex` keyword: enforce it rather than
  // drop it, so a bad background_color fails here and not at "Create app". `_note` is a comment.
  // Only `uri` needs a format (ajv-formats is not installed).
  const options = {
    allErrors: true,
    // Unknown keywords stay errors; type strictness is off because Slack's schema has a few
    // meaningless-but-harmless combinations (e.g. minItems on string items).
    strictSchema: true,
    strictTypes: false,
    strictTuples: false,
    strictRequired: false,
    formats: { uri: (value: string) => URL.canParse(value) },
    keywords: [
      '_note',
      {
        keyword: 'regex',
        type: 'string' as const,
        schemaType: 'string' as const,
        validate: (pattern: string, data: string) => new RegExp(pattern).test(data),
      },
    ],
  };
  const ajv = draft.includes('2020-12')
    ? new Ajv2020(options)
    : draft.includes('2019-09')
      ? new Ajv2019(options)
      : draft.includes('draft-07') || draft === ''
        ? new Ajv(options)
        : null;
  if (ajv === null) throw new Error(`Unsupported manifest schema dialect ${draft}`);
  return ajv.compile(schema);
}

describe('manifest.yml', () => {
  const validate = compileSchema();

  it("is valid against Slack's manifest schema", () => {
    const manifest = loadManifest();
    const ok = validate(manifest);
    expect(validate.errors ?? [], JSON.stringify(validate.errors, null, 2)).toEqual([]);
    expect(ok).toBe(true);
  });

  it('is checked for real: a broken manifest fails the schema', () => {
    const broken = structuredClone(loadManifest()) as unknown as Record<string, Record<string, unknown>>;
    const display = broken.display_information;
    if (display === undefined) throw new Error('no display_information');
    display.background_color = 'red';
    display.unknown_field = true;
    expect(validate(broken)).toBe(false);
    const paths = (validate.errors ?? []).map((e) => `${e.instancePath} ${e.keyword}`);
    expect(paths).toEqual(expect.arrayContaining(['/display_information/background_color regex']));
    expect(paths).toEqual(expect.arrayContaining(['/display_information additionalProperties']));
  });

  it('registers exactly the slash command the app handles', () => {
    const commands = loadManifest().features.slash_commands;
    expect(commands.map((c) => c.command)).toEqual([SLASH_COMMAND]);
    expect(commands[0]).toMatchObject({
      url: 'https://zeus-recover.example.internal/slack/events',
      should_escape: false,
      usage_hint: 'help | inspect <id> | restore <id> --from postgres …',
    });
  });

  it('asks for exactly the bot scopes the code needs, no more', () => {
    const scopes = loadManifest().oauth_config.scopes.bot;
    expect(new Set(scopes).size).toBe(scopes.length);
    expect([...scopes].sort()).toEqual([...REQUIRED_BOT_SCOPES].sort());
  });

  it('sends interactions to the same endpoint as the command, over HTTP mode', () => {
    const manifest = loadManifest();
    expect(manifest.display_information).toMatchObject({ name: 'Zeus Recover' });
    expect(manifest.features.bot_user).toEqual({ display_name: 'zeus-recover', always_online: true });
    expect(manifest.settings).toEqual({
      event_subscriptions: {
        request_url: manifest.features.slash_commands[0]?.url,
        bot_events: [...BOT_EVENTS],
      },
      interactivity: { is_enabled: true, request_url: manifest.features.slash_commands[0]?.url },
      org_deploy_enabled: false,
      socket_mode_enabled: false,
      token_rotation_enabled: false,
    });
  });
});

describe('App Home in the manifest', () => {
  it('enables the Home tab only, and subscribes to the events the app handles', () => {
    const manifest = loadManifest() as unknown as {
      features: { app_home?: Record<string, boolean> };
      settings: { event_subscriptions?: { bot_events?: string[] } };
    };
    expect(manifest.features.app_home).toEqual({
      home_tab_enabled: true,
      messages_tab_enabled: false,
      messages_tab_read_only_enabled: false,
    });
    expect(manifest.settings.event_subscriptions?.bot_events).toEqual([...BOT_EVENTS]);
  });
});

describe('registry', () => {
  it('keeps ids unique and within Slack limits (255 chars)', () => {
    for (const ids of [ACTION_IDS, VIEW_CALLBACK_IDS]) {
      expect(new Set(ids).size).toBe(ids.length);
      for (const id of ids) expect(id).toMatch(/^[a-z_]{1,255}$/);
    }
    expect(SLASH_COMMAND).toMatch(/^\/[a-z-]{1,31}$/);
  });
});
