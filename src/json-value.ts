/**
 * What comes back from Slack in a button's value or a form's private_metadata is ours only if it
 * parses as we wrote it; anyone can post a crafted payload. This reads the object, or says no.
 */
export function parseJsonObject(text: string, maxLength: number): Record<string, unknown> | null {
  if (text.length > maxLength) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return null;
  }
  return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
    ? (parsed as Record<string, unknown>)
    : null;
}
