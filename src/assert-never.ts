/**
 * The last line of a switch over a union: the compiler fails the build when a member is not
 * handled above it (a new command kind, say), instead of a `default:` quietly swallowing it.
 */
export function assertNever(value: never, what: string): never {
  throw new Error(`Unhandled ${what}: ${JSON.stringify(value)}`);
}
