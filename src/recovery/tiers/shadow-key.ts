/**
 * Redis Cluster hashes a key's first non-empty `{…}` tag, or the whole key when it has none.
 * A shadow key must land in the live key's slot (one script touches both), so it reuses the live
 * key's tag, or wraps the whole live key in braces, which hashes exactly the live key. A live key
 * with no usable tag that contains `}` cannot be wrapped: no shadow key is possible for it.
 */
export function shadowKeyFor(liveKey: string, tag: string): string | null {
  const suffix = `:zeus-recover:shadow:${tag}`;
  const open = liveKey.indexOf('{');
  if (open >= 0) {
    const close = liveKey.indexOf('}', open + 1);
    if (close > open + 1) return `${liveKey}${suffix}`;
  }
  if (liveKey.includes('}')) return null;
  return `{${liveKey}}${suffix}`;
}
