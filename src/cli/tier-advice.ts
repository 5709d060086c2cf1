import type { Config } from '../config.js';
import type { TierName, TierReport } from '../recovery/types.js';

const LABEL: Record<TierName, string> = { redis: 'Redis', postgres: 'PostgreSQL', s3: 'S3' };

/** The setting that says where each tier is, as the README's configuration table names it. */
function where(tier: TierName, config: Config): string {
  if (tier === 'redis') return config.redis.clusterNodes ? 'REDIS_CLUSTER_NODES' : 'REDIS_URL';
  if (tier === 'postgres') return 'DATABASE_URL';
  return config.s3.endpoint ? 'S3_ENDPOINT' : 'AWS_REGION and your network route to S3';
}

/** What to change for one unreachable tier, from the adapter's reason; the reason itself is kept. */
function fix(tier: TierName, reason: string, config: Config): string {
  const r = reason.toLowerCase();
  if (tier === 's3' && r.startsWith('no aws credentials')) {
    return 'no AWS credentials — set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE), or run where an IAM role is attached';
  }
  if (tier === 's3' && r.includes('access denied')) {
    return `${reason} — give these credentials s3:GetObject (and s3:ListBucket) on ${config.s3.bucket}/${config.s3.prefix}*`;
  }
  if (tier === 's3' && r.includes('does not exist')) return `${reason} — check S3_BUCKET`;
  if (tier === 's3' && r.includes('another region'))
    return `${reason} — set AWS_REGION to the bucket's region`;
  if (tier === 'postgres' && r.startsWith('table ')) {
    return `${reason} — set ZEUS_CONVERSATIONS_TABLE, or point DATABASE_URL at Zeus's database`;
  }
  if (tier === 'postgres' && r.startsWith('permission denied')) {
    return `${reason} — grant SELECT on it to the user in DATABASE_URL`;
  }
  if (
    tier === 'postgres' &&
    (r.startsWith('authentication failed') || r.startsWith('database does not exist'))
  ) {
    return `${reason} — check the user, password and database name in DATABASE_URL`;
  }
  if (tier === 'redis' && /noauth|wrongpass|invalid password|auth/.test(r)) {
    return `${reason} — check the password in ${where(tier, config)}`;
  }
  if (r.includes('timed out'))
    return `${reason} — check ${where(tier, config)}, and that the host answers from here`;
  return `${reason} — check ${where(tier, config)}`;
}

/**
 * One line per unreachable tier, saying what to fix ("S3: no AWS credentials — set …",
 * "Redis: connection refused at 10.0.0.7:6379 — check REDIS_URL"); empty when all answered.
 */
export function unreachableAdvice(tiers: Record<TierName, TierReport>, config: Config): string[] {
  return (Object.keys(tiers) as TierName[])
    .filter((t) => tiers[t].status === 'unreachable')
    .map((t) => `${LABEL[t]}: ${fix(t, tiers[t].reason ?? 'no answer', config)}`);
}
