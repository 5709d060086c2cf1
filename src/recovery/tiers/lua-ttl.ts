/**
 * The Lua that writes `value` to KEYS[1] under the TTL policy whose kind ('keep'|'fixed'|'none')
 * and ms are in ARGV[kindArg] and ARGV[msArg]: KEEPTTL keeps the key's TTL (none when it had none
 * or did not exist), PX sets it, a bare SET drops it. One text for every write script.
 */
export function luaSetWithTtl(value: string, kindArg: number, msArg: number): string {
  return `if ARGV[${kindArg}] == 'keep' then
  redis.call('SET', KEYS[1], ${value}, 'KEEPTTL')
elseif ARGV[${kindArg}] == 'fixed' then
  redis.call('SET', KEYS[1], ${value}, 'PX', ARGV[${msArg}])
else
  redis.call('SET', KEYS[1], ${value})
end`;
}
