import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { loadConfig } from '../../src/config.js';

/** The deploy examples (deploy/k8s, deploy/docker-compose.yml) are checked, not just shipped. */

const repoRoot = new URL('../../', import.meta.url);
const k8sDir = new URL('deploy/k8s/', repoRoot);
const composePath = new URL('deploy/docker-compose.yml', repoRoot);
const configSource = readFileSync(new URL('src/config.ts', repoRoot), 'utf8');

// Loose shapes: just what the assertions read.
interface Meta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
}
interface Resource {
  apiVersion: string;
  kind: string;
  metadata: Meta;
  [key: string]: unknown;
}
interface HttpProbe {
  httpGet: { path: string; port: string | number };
}
interface Container {
  name: string;
  image: string;
  ports: { name?: string; containerPort: number }[];
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  readinessProbe?: HttpProbe;
  livenessProbe?: HttpProbe;
  startupProbe?: HttpProbe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: {
    runAsNonRoot?: boolean;
    readOnlyRootFilesystem?: boolean;
    allowPrivilegeEscalation?: boolean;
    capabilities?: { drop?: string[] };
  };
}
interface Deployment extends Resource {
  spec: {
    replicas: number;
    selector: { matchLabels: Record<string, string> };
    template: {
      metadata: { labels: Record<string, string> };
      spec: {
        serviceAccountName?: string;
        securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
        containers: Container[];
      };
    };
  };
}

function loadK8s(): Map<string, { file: string; resource: Resource }[]> {
  const byKind = new Map<string, { file: string; resource: Resource }[]>();
  for (const file of readdirSync(k8sDir).filter((f) => /\.ya?ml$/.test(f))) {
    const docs = parseAllDocuments(readFileSync(new URL(file, k8sDir), 'utf8'));
    for (const doc of docs) {
      expect(doc.errors, `${file}: ${doc.errors.join('; ')}`).toEqual([]);
      const resource = doc.toJS() as Resource | null;
      if (!resource) continue;
      const list = byKind.get(resource.kind) ?? [];
      list.push({ file, resource });
      byKind.set(resource.kind, list);
    }
  }
  return byKind;
}

const k8s = loadK8s();
function one<T extends Resource>(kind: string): { file: string; resource: T } {
  const list = k8s.get(kind) ?? [];
  expect(list.length, `one ${kind} in deploy/k8s`).toBe(1);
  return list[0] as { file: string; resource: T };
}

const selects = (selector: Record<string, string>, labels: Record<string, string>) =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

/** Variables the app reads (src/config.ts) plus the AWS SDK's own. */
const isKnownVariable = (name: string) =>
  new RegExp(`\\b${name}:`).test(configSource) ||
  /^AWS_(ACCESS_KEY_ID|SECRET_ACCESS_KEY|SESSION_TOKEN)$/.test(name);

describe('deploy/k8s', () => {
  const deployment = one<Deployment>('Deployment').resource;
  const pod = deployment.spec.template.spec;
  const container = pod.containers[0] as Container;
  const secret = one<Resource & { stringData: Record<string, string> }>('Secret');
  const configMap = one<Resource & { data: Record<string, string> }>('ConfigMap').resource;

  it('has the Deployment, Service, PodDisruptionBudget, ConfigMap and example Secret, all in namespace kosmos', () => {
    for (const kind of [
      'Deployment',
      'Service',
      'PodDisruptionBudget',
      'ConfigMap',
      'Secret',
      'ServiceAccount',
    ]) {
      expect(k8s.get(kind)?.length, kind).toBe(1);
    }
    expect(k8s.has('Namespace'), 'kosmos is the platform’s namespace, not ours to create').toBe(false);
    for (const [kind, list] of k8s) {
      if (kind === 'Kustomization') continue;
      for (const { file, resource } of list) {
        expect(resource.metadata.namespace, `${file} ${kind}`).toBe('kosmos');
        expect(resource.metadata.name, `${file} ${kind}`).toBe('zeus-recover');
      }
    }
  });

  it('runs 2 replicas with probes on the container port: readiness /readyz, liveness /healthz', () => {
    expect(deployment.spec.replicas).toBe(2);
    expect(pod.containers).toHaveLength(1);
    const port = container.ports[0];
    expect(port?.containerPort).toBe(Number(configMap.data.PORT ?? 3000));
    const isContainerPort = (p: string | number) => p === port?.name || p === port?.containerPort;
    expect(container.readinessProbe?.httpGet.path).toBe('/readyz');
    expect(isContainerPort(container.readinessProbe?.httpGet.port ?? -1)).toBe(true);
    expect(container.livenessProbe?.httpGet.path).toBe('/healthz');
    expect(isContainerPort(container.livenessProbe?.httpGet.port ?? -1)).toBe(true);
    if (container.startupProbe) {
      expect(container.startupProbe.httpGet.path).toBe('/healthz');
      expect(isContainerPort(container.startupProbe.httpGet.port)).toBe(true);
    }
    expect(selects(deployment.spec.selector.matchLabels, deployment.spec.template.metadata.labels)).toBe(
      true,
    );
  });

  it('is locked down: non-root (numeric uid), read-only root filesystem, no privilege escalation, resources set', () => {
    expect(pod.securityContext?.runAsNonRoot ?? container.securityContext?.runAsNonRoot).toBe(true);
    // The kubelet can only verify runAsNonRoot for a numeric user; the image's USER is "node".
    expect(pod.securityContext?.runAsUser).toBe(1000);
    expect(container.securityContext?.readOnlyRootFilesystem).toBe(true);
    expect(container.securityContext?.allowPrivilegeEscalation).toBe(false);
    expect(container.securityContext?.capabilities?.drop).toContain('ALL');
    expect(container.resources?.requests?.cpu).toBeDefined();
    expect(container.resources?.requests?.memory).toBeDefined();
    expect(container.resources?.limits?.memory).toBeDefined();
    const serviceAccount = one<Resource>('ServiceAccount').resource;
    expect(pod.serviceAccountName).toBe(serviceAccount.metadata.name);
  });

  it('takes the secrets from the Secret, key by key, and everything else from the ConfigMap', () => {
    const refs = (container.env ?? []).flatMap((e) =>
      e.valueFrom?.secretKeyRef ? [e.valueFrom.secretKeyRef] : [],
    );
    const secretKeys = Object.keys(secret.resource.stringData);
    for (const ref of refs) {
      expect(ref.name).toBe(secret.resource.metadata.name);
      expect(secretKeys, `key ${ref.key}`).toContain(ref.key);
    }
    const names = (container.env ?? []).map((e) => e.name);
    for (const name of [
      'SLACK_BOT_TOKEN',
      'SLACK_SIGNING_SECRET',
      'DATABASE_URL',
      'REDIS_URL',
      'ZEUS_API_TOKEN',
    ]) {
      expect(
        refs.map((r) => r.key),
        name,
      ).toContain(name);
      expect(names).toContain(name);
    }
    // No secret as a literal value in the Deployment or ConfigMap.
    expect((container.env ?? []).filter((e) => e.value !== undefined)).toEqual([]);
    for (const key of Object.keys(configMap.data)) {
      expect(/TOKEN|SECRET|PASSWORD|DATABASE_URL|REDIS_URL/.test(key), `${key} belongs in the Secret`).toBe(
        false,
      );
    }
    expect(container.envFrom?.map((e) => e.configMapRef?.name)).toContain(configMap.metadata.name);
    // Placeholders only in the example.
    for (const [key, value] of Object.entries(secret.resource.stringData)) {
      expect(value, key).toMatch(/REPLACE-ME/);
    }
  });

  it('names only variables the app reads, and the ConfigMap plus Secret make a valid configuration', () => {
    for (const key of [...Object.keys(configMap.data), ...Object.keys(secret.resource.stringData)]) {
      expect(isKnownVariable(key), `${key} is not read by src/config.ts`).toBe(true);
    }
    const env = {
      ...configMap.data,
      SLACK_BOT_TOKEN: 'xoxb-1-2-abc',
      SLACK_SIGNING_SECRET: 'a-signing-secret',
      DATABASE_URL: 'postgres://zeus_recover:pw@postgres.kosmos.svc:5432/zeus',
      REDIS_URL: 'redis://:pw@redis.kosmos.svc:6379',
      ZEUS_API_TOKEN: 'token',
    };
    const config = loadConfig(env, 'slack');
    expect(config.slack.port).toBe(container.ports[0]?.containerPort);
    // The example Secret's placeholders have the right shapes too.
    expect(() => loadConfig({ ...configMap.data, ...secret.resource.stringData }, 'slack')).not.toThrow();
  });

  it('routes the Service, PodDisruptionBudget and Ingress to the pods', () => {
    const labels = deployment.spec.template.metadata.labels;
    const service = one<
      Resource & {
        spec: { selector: Record<string, string>; ports: { name: string; targetPort: string | number }[] };
      }
    >('Service').resource;
    expect(selects(service.spec.selector, labels)).toBe(true);
    const portName = container.ports[0]?.name;
    expect(service.spec.ports.map((p) => p.targetPort)).toContain(portName);
    const pdb = one<
      Resource & { spec: { minAvailable: number; selector: { matchLabels: Record<string, string> } } }
    >('PodDisruptionBudget').resource;
    expect(selects(pdb.spec.selector.matchLabels, labels)).toBe(true);
    expect(pdb.spec.minAvailable).toBeGreaterThanOrEqual(1);
    expect(pdb.spec.minAvailable).toBeLessThan(deployment.spec.replicas);
    const ingress = one<
      Resource & {
        spec: { rules: { http: { paths: { path: string; backend: { service: { name: string } } }[] } }[] };
      }
    >('Ingress').resource;
    const paths = ingress.spec.rules.flatMap((r) => r.http.paths);
    expect(paths.map((p) => p.path)).toEqual(['/slack/events']);
    expect(paths.every((p) => p.backend.service.name === service.metadata.name)).toBe(true);
  });

  it('has a kustomization listing every manifest except the example Secret', () => {
    const kustomization = one<Resource & { namespace: string; resources: string[] }>(
      'Kustomization',
    ).resource;
    expect(kustomization.namespace).toBe('kosmos');
    const files = readdirSync(k8sDir).filter((f) => /\.ya?ml$/.test(f) && f !== 'kustomization.yaml');
    expect(kustomization.resources.sort()).toEqual(files.filter((f) => f !== secret.file).sort());
    expect(kustomization.resources).not.toContain(secret.file);
  });
});

// ---------------------------------------------------------------------------------------------

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile?: string };
  command?: string | string[];
  environment?: Record<string, string>;
  depends_on?: string[] | Record<string, { condition: string }>;
  ports?: string[];
  volumes?: string[];
  read_only?: boolean;
}

/** Compose's `${VAR:-default}` as an unset variable would give it (`${VAR}` → empty). */
const interpolate = (value: string) =>
  value.replace(
    /\$\{([A-Z0-9_]+)(?::?-([^}]*))?\}/g,
    (_m, _name: string, fallback?: string) => fallback ?? '',
  );

describe('deploy/docker-compose.yml', () => {
  const compose = parse(readFileSync(composePath, 'utf8')) as { services: Record<string, ComposeService> };
  const services = compose.services;
  const bot = services.bot as ComposeService;
  const botEnv = Object.fromEntries(
    Object.entries(bot.environment ?? {}).map(([k, v]) => [k, interpolate(String(v))]),
  );
  const dependsOn = (service: ComposeService) =>
    Array.isArray(service.depends_on) ? service.depends_on : Object.keys(service.depends_on ?? {});

  it('has redis:7, postgres:16, an S3-compatible server with a bucket-creating one-shot, and the bot', () => {
    expect(services.redis?.image).toMatch(/^redis:7(\b|$)/);
    expect(services.postgres?.image).toMatch(/^postgres:16(\b|$)/);
    expect(services.s3?.image).toBeDefined();
    const init = services['s3-init'] as ComposeService;
    expect(dependsOn(init)).toContain('s3');
    expect(JSON.stringify(init.command)).toContain(`mb --ignore-existing local/${botEnv.S3_BUCKET}`);
    expect(bot.build).toBeDefined();
  });

  it('builds the bot from the repository Dockerfile', () => {
    const context = new URL(`${bot.build?.context ?? '.'}/`, composePath);
    expect(existsSync(new URL(bot.build?.dockerfile ?? 'Dockerfile', context))).toBe(true);
    expect(fileURLToPath(context)).toBe(fileURLToPath(repoRoot));
    const [hostPort] = (bot.ports ?? []).map((p) => p.split(':').at(-1));
    expect(hostPort).toBe(botEnv.PORT);
    expect(bot.read_only).toBe(true);
  });

  it('points the bot at the other services, with credentials that match theirs', () => {
    const pgEnv = services.postgres?.environment ?? {};
    const redisUrl = new URL(botEnv.REDIS_URL ?? '');
    expect(redisUrl.hostname).toBe('redis');
    const db = new URL(botEnv.DATABASE_URL ?? '');
    expect(db.hostname).toBe('postgres');
    expect(decodeURIComponent(db.username)).toBe(pgEnv.POSTGRES_USER);
    expect(decodeURIComponent(db.password)).toBe(pgEnv.POSTGRES_PASSWORD);
    expect(db.pathname).toBe(`/${pgEnv.POSTGRES_DB}`);
    expect(new URL(botEnv.S3_ENDPOINT ?? '').hostname).toBe('s3');
    expect(botEnv.S3_FORCE_PATH_STYLE).toBe('true');
    expect(botEnv.S3_CHECKSUM_WHEN_REQUIRED).toBe('true');
    const s3Env = services.s3?.environment ?? {};
    expect(botEnv.AWS_ACCESS_KEY_ID).toBe(s3Env.MINIO_ROOT_USER);
    expect(botEnv.AWS_SECRET_ACCESS_KEY).toBe(s3Env.MINIO_ROOT_PASSWORD);
    const init = JSON.stringify(services['s3-init']?.command);
    expect(init).toContain(`${s3Env.MINIO_ROOT_USER} ${s3Env.MINIO_ROOT_PASSWORD}`);
    expect(init).toContain(botEnv.S3_ENDPOINT);
    expect(dependsOn(bot).sort()).toEqual(['postgres', 'redis', 's3-init']);
    expect(bot.depends_on).toMatchObject({ 's3-init': { condition: 'service_completed_successfully' } });
  });

  it('gives the bot a valid configuration once the Slack values are filled in', () => {
    for (const key of Object.keys(botEnv)) expect(isKnownVariable(key), key).toBe(true);
    const config = loadConfig(
      { ...botEnv, SLACK_BOT_TOKEN: 'xoxb-1-2-abc', SLACK_SIGNING_SECRET: 'a-signing-secret' },
      'slack',
    );
    expect(config.s3.forcePathStyle).toBe(true);
    expect(config.s3.checksumWhenRequired).toBe(true);
    expect(config.slack.appToken).toBeUndefined();
    // Without them the bot refuses to start and says what is missing (exit 2, no crash loop mystery).
    expect(() => loadConfig(botEnv, 'slack')).toThrow(/SLACK_BOT_TOKEN/);
  });

  it('creates Zeus’s conversations table in the compose Postgres', () => {
    const mount = (services.postgres?.volumes ?? []).find((v) => v.includes('/docker-entrypoint-initdb.d/'));
    expect(mount).toBeDefined();
    const sql = readFileSync(new URL(mount?.split(':')[0] ?? '', composePath), 'utf8');
    expect(sql).toMatch(
      /CREATE TABLE IF NOT EXISTS conversations \(\s*id text PRIMARY KEY,\s*state jsonb NOT NULL,/,
    );
  });
});
