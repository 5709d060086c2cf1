// Types for render.js, which the page loads as plain JavaScript (no build step) and the unit
// tests import from TypeScript.

export interface VElement {
  tag: string;
  attrs: Record<string, string>;
  children: VNode[];
}
export type VNode = VElement | string;

export interface RenderContext {
  users?: Record<string, { name: string }>;
  usergroups?: Record<string, { handle: string }>;
  channels?: Record<string, { name: string }>;
}

export type MdNode =
  | { t: 'text'; v: string }
  | { t: 'code'; v: string }
  | { t: 'pre'; v: string }
  | { t: 'b' | 'i' | 's' | 'quote'; c: MdNode[] }
  | { t: 'user'; id: string; label: string | null }
  | { t: 'channel'; id: string; label: string | null }
  | { t: 'usergroup'; id: string; label: string | null }
  | { t: 'special'; name: string }
  | { t: 'date'; fallback: string }
  | { t: 'link'; url: string; label: string | null };

type Json = Record<string, unknown>;
type Child = VNode | VNode[] | null | undefined | false;

export function h(
  tag: string,
  attrs?: Record<string, string | number | boolean | null | undefined>,
  ...children: Child[]
): VElement;
export function textOf(node: VNode | VNode[]): string;
export function findAll(node: VNode | VNode[], test: (e: VElement) => boolean): VElement[];
/** The part of `Document` toDom uses (tests pass a small fake). */
export interface DocumentLike {
  createElement(tag: string): {
    setAttribute(name: string, value: string): void;
    appendChild(child: never): unknown;
  };
  createTextNode(text: string): unknown;
}
export function toDom(node: VNode, doc: DocumentLike): unknown;
export function decodeEntities(text: string): string;
export function emojify(text: string): string;
export function parseMrkdwn(text: string): MdNode[];
export function renderMrkdwn(text: string, ctx?: RenderContext): VNode[];
export function renderTextObject(t: unknown, ctx?: RenderContext): VNode[];
export function plainOf(t: unknown): string;
export function selectOptions(el: Json): Json[];
export function renderElement(
  el: Json,
  blockId: string,
  ctx: RenderContext & { inputId?: string; invalid?: boolean },
): VNode;
export function renderBlock(block: Json, ctx: RenderContext & { errors?: Record<string, string> }): VNode;
export function renderMessageBody(
  message: { text?: string; blocks?: Json[] | null },
  ctx?: RenderContext,
): VNode;
export function renderModal(
  view: Json,
  status?: { errors?: Record<string, string>; problem?: string | null },
  ctx?: RenderContext,
): VElement;
export function renderConfirm(confirm: Json, ctx?: RenderContext): VElement;
