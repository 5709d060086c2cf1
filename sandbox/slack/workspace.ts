import { randomBytes } from 'node:crypto';

/**
 * The workspace behind the local Slack: its channels and threads, what each person sees
 * privately (ephemerals, open modals), uploaded files, and the trigger ids and response URLs
 * handed out with each request to the app. In memory on purpose: it is the stand-in for Slack's
 * own servers, not product state — the bot keeps everything that matters in Postgres.
 */

export type Json = Record<string, unknown>;

export interface SandboxUser {
  id: string;
  /** Handle, as in `@alice`. */
  name: string;
  realName: string;
  /** Shown under the name in the user switch. */
  title: string;
  isBot: boolean;
  /** Avatar colour. */
  color: string;
}

export interface SandboxChannel {
  id: string;
  name: string;
  topic: string;
}

export interface SandboxUsergroup {
  id: string;
  handle: string;
  name: string;
  members: string[];
}

export interface SharedFile {
  id: string;
  name: string;
  size: number;
}

export interface SandboxMessage {
  channel: string;
  ts: string;
  /** The parent's ts for a reply; null for a top-level message. */
  threadTs: string | null;
  user: string;
  /** Set for messages the app posted (chat.postMessage); null for people. */
  botId: string | null;
  text: string;
  blocks: Json[] | null;
  replyBroadcast: boolean;
  /** How many times chat.update (or a response_url) changed it. */
  edits: number;
  files: SharedFile[];
  /** As posted with chat.postMessage; conversations.history/replies return it on request. */
  metadata?: { event_type: string; event_payload: Json } | null;
}

export interface EphemeralMessage {
  id: string;
  /** The only person who sees it. */
  user: string;
  channel: string;
  threadTs: string | null;
  ts: string;
  /** Who it is from: the app, or Slackbot when Slack itself reports a failure. */
  from: 'app' | 'slackbot';
  text: string;
  blocks: Json[] | null;
}

export interface OpenView {
  id: string;
  user: string;
  view: Json;
  hash: string;
  /** Field errors from `response_action: errors`, by block id. */
  errors: Record<string, string>;
  /** A problem Slack itself shows above the form (the app did not answer, …). */
  problem: string | null;
}

export interface StoredFile {
  id: string;
  filename: string;
  title: string;
  /** The `length` declared to files.getUploadURLExternal. */
  length: number;
  /** What was POSTed to the upload_url, null until then. */
  bytes: Buffer | null;
  completed: boolean;
  /** Where files.completeUploadExternal shared it (Slack's own field names). */
  channel_id: string | null;
  thread_ts: string | null;
  initial_comment: string | null;
}

/** A response_url the local Slack handed out: where it was issued, and what it may replace. */
export interface ResponseTarget {
  user: string;
  channel: string;
  threadTs: string | null;
  original: { kind: 'message'; ts: string } | { kind: 'ephemeral'; id: string } | null;
  expiresAt: number;
}

export interface WorkspaceOptions {
  teamId: string;
  teamName: string;
  teamDomain: string;
  appId: string;
  bot: SandboxUser & { botId: string };
  users: SandboxUser[];
  channels: SandboxChannel[];
  usergroups: SandboxUsergroup[];
  /**
   * For tests that need not name every id: any `U…`/`W…` id is a user (with a made-up profile),
   * any channel id can be posted to, and any trigger id opens a view. The demo's workspace is
   * closed: only what it lists exists, and only trigger ids it handed out work.
   */
  open?: boolean;
}

/** Slack keeps at most three views on a modal stack (`push_limit_reached`). */
export const VIEW_STACK_MAX = 3;
export const SLACKBOT_ID = 'USLACKBOT';
/** Slack's trigger_id expires 3 s after the interaction. */
const TRIGGER_TTL_MS = 3000;
/** Slack: a response_url works for 30 minutes (and 5 times, counted where it is answered). */
const RESPONSE_URL_TTL_MS = 30 * 60_000;

/** Slack's own ids look like `Ab1C2`: short, random, and never chosen by the app. */
export function randomId(length = 5): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = randomBytes(length);
  let out = '';
  for (const b of bytes) out += alphabet.charAt(b % alphabet.length);
  return out;
}

const isJson = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * As Slack does on every message and view it stores: blocks and interactive elements without a
 * `block_id` / `action_id` get a generated one, so every click can name what was clicked.
 */
export function withIds(blocks: readonly unknown[]): Json[] {
  const copy = structuredClone(blocks.filter(isJson));
  const elementIds = (el: unknown): void => {
    if (isJson(el) && typeof el.type === 'string' && el.type !== 'mrkdwn' && el.type !== 'plain_text') {
      if (typeof el.action_id !== 'string' && el.type !== 'image') el.action_id = randomId(6);
    }
  };
  for (const block of copy) {
    if (typeof block.block_id !== 'string') block.block_id = randomId();
    if (Array.isArray(block.elements) && block.type === 'actions') block.elements.forEach(elementIds);
    if (block.accessory !== undefined) elementIds(block.accessory);
    if (block.element !== undefined) elementIds(block.element);
  }
  return copy;
}

type Listener = (version: number) => void;

export class Workspace {
  readonly options: WorkspaceOptions;
  readonly #messages: SandboxMessage[] = [];
  readonly #ephemerals: EphemeralMessage[] = [];
  readonly #views = new Map<string, OpenView[]>();
  /** Each person's App Home tab, as the app last published it (views.publish). */
  readonly #homes = new Map<string, Json>();
  readonly #files = new Map<string, StoredFile>();
  readonly #triggers = new Map<string, { user: string; expiresAt: number; used: boolean }>();
  readonly #responseTargets = new Map<string, ResponseTarget>();
  readonly #listeners = new Set<Listener>();
  #lastTs = 0;
  #version = 0;

  constructor(options: WorkspaceOptions) {
    this.options = options;
  }

  get version(): number {
    return this.#version;
  }

  /** Called on every change; returns an unsubscribe function. */
  onChange(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  changed(): void {
    this.#version++;
    for (const listener of this.#listeners) listener(this.#version);
  }

  /** Slack ts: seconds and microseconds of "now", strictly increasing so it also orders messages. */
  nextTs(): string {
    const micros = Math.max(Date.now() * 1000, this.#lastTs + 1);
    this.#lastTs = micros;
    return `${Math.floor(micros / 1_000_000)}.${String(micros % 1_000_000).padStart(6, '0')}`;
  }

  user(id: string): SandboxUser | undefined {
    if (id === this.options.bot.id) return this.options.bot;
    const known = this.options.users.find((u) => u.id === id);
    if (known || !this.options.open || !/^[UW][A-Z0-9_]+$/.test(id)) return known;
    const name = id.toLowerCase();
    return { id, name, realName: name, title: '', isBot: false, color: 'teal' };
  }

  /** Ids or `#name` / `name`, as Slack accepts for `channel`. */
  channel(ref: string): SandboxChannel | undefined {
    const name = ref.replace(/^#/, '');
    return this.options.channels.find((c) => c.id === ref || c.name === name);
  }

  /** Where a message may go: a known channel, or in an open workspace any channel id. */
  postChannel(ref: string): SandboxChannel | undefined {
    const known = this.channel(ref);
    if (known || !this.options.open || !/^[CGD][A-Z0-9_]+$/.test(ref)) return known;
    return { id: ref, name: ref.toLowerCase(), topic: '' };
  }

  /** Adds a channel, or renames a known one. */
  setChannel(channel: SandboxChannel): void {
    const index = this.options.channels.findIndex((c) => c.id === channel.id);
    if (index < 0) this.options.channels.push(channel);
    else this.options.channels[index] = channel;
  }

  setUsergroup(group: SandboxUsergroup): void {
    this.options.usergroups = [...this.options.usergroups.filter((g) => g.id !== group.id), group];
  }

  setUser(user: SandboxUser): void {
    this.options.users = [...this.options.users.filter((u) => u.id !== user.id), user];
  }

  /** A trigger_id for an interaction of `user`: it opens one view, within 3 s. */
  newTrigger(user: string): string {
    const id = `${Date.now()}.${Math.floor(Math.random() * 1e9)}.${randomId(12).toLowerCase()}`;
    this.#triggers.set(id, { user, expiresAt: Date.now() + TRIGGER_TTL_MS, used: false });
    return id;
  }

  /** Who a trigger_id belongs to, if it is still valid; consumed on use. */
  takeTrigger(triggerId: string): { user: string } | 'expired' | 'invalid' {
    const t = this.#triggers.get(triggerId);
    // Views opened with a trigger id the app made up belong to no one in particular.
    if (!t) return this.options.open ? { user: '' } : 'invalid';
    if (t.used) return 'invalid';
    t.used = true;
    return Date.now() > t.expiresAt ? 'expired' : { user: t.user };
  }

  /** Hands out a response_url id for what a request to the app was about. */
  newResponseTarget(target: Omit<ResponseTarget, 'expiresAt'>): string {
    const id = randomId(24);
    this.#responseTargets.set(id, { ...target, expiresAt: Date.now() + RESPONSE_URL_TTL_MS });
    return id;
  }

  responseTarget(id: string): ResponseTarget | undefined {
    return this.#responseTargets.get(id);
  }

  /** What a later `replace_original` on this response_url replaces (the last private answer). */
  setResponseOriginal(id: string, original: ResponseTarget['original']): void {
    const target = this.#responseTargets.get(id);
    if (target) target.original = original;
  }

  /** Forgets messages, ephemerals, views, files, triggers and response URLs (not the people). */
  clear(): void {
    this.#messages.length = 0;
    this.#ephemerals.length = 0;
    this.#views.clear();
    this.#homes.clear();
    this.#files.clear();
    this.#triggers.clear();
    this.#responseTargets.clear();
    this.changed();
  }

  usergroup(id: string): SandboxUsergroup | undefined {
    return this.options.usergroups.find((g) => g.id === id);
  }

  messages(): readonly SandboxMessage[] {
    return this.#messages;
  }

  message(channel: string, ts: string): SandboxMessage | undefined {
    return this.#messages.find((m) => m.channel === channel && m.ts === ts);
  }

  addMessage(message: Omit<SandboxMessage, 'ts' | 'edits'>): SandboxMessage {
    const stored: SandboxMessage = { ...message, ts: this.nextTs(), edits: 0 };
    this.#messages.push(stored);
    this.changed();
    return stored;
  }

  deleteMessage(channel: string, ts: string): boolean {
    return this.#remove(this.#messages, (m) => m.channel === channel && m.ts === ts);
  }

  /** Removes the first item that matches; false when none did. */
  #remove<T>(list: T[], match: (item: T) => boolean): boolean {
    const index = list.findIndex(match);
    if (index < 0) return false;
    list.splice(index, 1);
    this.changed();
    return true;
  }

  ephemeralsFor(user: string): EphemeralMessage[] {
    return this.#ephemerals.filter((e) => e.user === user);
  }

  ephemeral(id: string): EphemeralMessage | undefined {
    return this.#ephemerals.find((e) => e.id === id);
  }

  addEphemeral(message: Omit<EphemeralMessage, 'id' | 'ts'>): EphemeralMessage {
    const stored: EphemeralMessage = { ...message, id: `E${randomId(8)}`, ts: this.nextTs() };
    this.#ephemerals.push(stored);
    this.changed();
    return stored;
  }

  replaceEphemeral(id: string, content: { text: string; blocks: Json[] | null }): boolean {
    const found = this.ephemeral(id);
    if (!found) return false;
    found.text = content.text;
    found.blocks = content.blocks;
    this.changed();
    return true;
  }

  dismissEphemeral(user: string, id: string): boolean {
    return this.#remove(this.#ephemerals, (e) => e.id === id && e.user === user);
  }

  /** The modal stack a person has open, bottom first. */
  /** Publishes `user`'s Home tab (views.publish replaces it whole); returns it with Slack's fields. */
  publishHome(user: string, view: Json): Json {
    const previous = this.#homes.get(user);
    const id = typeof previous?.id === 'string' ? previous.id : `V_HOME_${user}`;
    const blocks = withIds(Array.isArray(view.blocks) ? view.blocks : []);
    const stored = { ...view, blocks, id, team_id: this.options.teamId, app_id: this.options.appId };
    this.#homes.set(user, stored);
    this.changed();
    return stored;
  }

  /** `user`'s Home tab as last published, if ever. */
  home(user: string): Json | undefined {
    return this.#homes.get(user);
  }

  viewStack(user: string): readonly OpenView[] {
    return this.#views.get(user) ?? [];
  }

  findView(id: string): OpenView | undefined {
    for (const stack of this.#views.values()) {
      const hit = stack.find((v) => v.id === id);
      if (hit) return hit;
    }
    return undefined;
  }

  findViewByExternalId(externalId: string): OpenView | undefined {
    for (const stack of this.#views.values()) {
      const hit = stack.find((v) => v.view.external_id === externalId);
      if (hit) return hit;
    }
    return undefined;
  }

  /** Opens a new modal (replacing any open one) or pushes onto the stack. */
  openView(user: string, view: Json, mode: 'open' | 'push'): OpenView | 'push_limit_reached' {
    const stack = mode === 'open' ? [] : [...this.viewStack(user)];
    if (stack.length >= VIEW_STACK_MAX) return 'push_limit_reached';
    const id = `V${randomId(10).toUpperCase()}`;
    const root = stack[0]?.id ?? id;
    const previous = stack.at(-1)?.id ?? null;
    const opened: OpenView = {
      id,
      user,
      view: this.#viewJson(id, view, root, previous),
      hash: this.#hash(),
      errors: {},
      problem: null,
    };
    stack.push(opened);
    this.#views.set(user, stack);
    this.changed();
    return opened;
  }

  updateView(open: OpenView, view: Json): OpenView {
    open.view = this.#viewJson(
      open.id,
      view,
      String(open.view.root_view_id ?? open.id),
      (open.view.previous_view_id as string | null | undefined) ?? null,
    );
    open.hash = this.#hash();
    open.errors = {};
    open.problem = null;
    this.changed();
    return open;
  }

  setViewErrors(open: OpenView, errors: Record<string, string>, problem: string | null): void {
    open.errors = errors;
    open.problem = problem;
    this.changed();
  }

  /** Closes the top view (`all`: the whole stack), as Cancel, ×, an empty ack or `clear` do. */
  closeView(user: string, viewId: string, all = false): OpenView | undefined {
    const stack = [...this.viewStack(user)];
    const index = stack.findIndex((v) => v.id === viewId);
    if (index < 0) return undefined;
    const closed = stack[index];
    const kept = all ? [] : stack.slice(0, index);
    if (kept.length === 0) this.#views.delete(user);
    else this.#views.set(user, kept);
    this.changed();
    return closed;
  }

  file(id: string): StoredFile | undefined {
    return this.#files.get(id);
  }

  files(): StoredFile[] {
    return [...this.#files.values()];
  }

  addFile(file: StoredFile): void {
    this.#files.set(file.id, file);
  }

  #hash(): string {
    return `${this.nextTs()}.${randomId(8)}`;
  }

  /** A view as Slack stores and echoes it: ids, app, defaults, and ids on its blocks. */
  #viewJson(id: string, view: Json, rootViewId: string, previousViewId: string | null): Json {
    return {
      type: 'modal',
      private_metadata: '',
      callback_id: '',
      external_id: '',
      clear_on_close: false,
      notify_on_close: false,
      ...view,
      id,
      team_id: this.options.teamId,
      app_id: this.options.appId,
      bot_id: this.options.bot.botId,
      app_installed_team_id: this.options.teamId,
      root_view_id: rootViewId,
      previous_view_id: previousViewId,
      blocks: withIds(Array.isArray(view.blocks) ? view.blocks : []),
      state: { values: {} },
    };
  }
}
