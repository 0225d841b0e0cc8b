import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import YAML from 'yaml';
import { checkExposure, everyScopeProtected, loadConfig } from '../../server/config';
import { hostPolicy } from '../../server/plugins/request-guard';
import { ROOT, needs } from '../helpers/cli';
import { freePort } from '../helpers/net';
import { waitFor } from '../helpers/server';

// deploy/kubernetes rendered by `kubectl kustomize` (as `kubectl apply -k` would), every object
// validated against the Kubernetes schemas, then the properties the deployment relies on checked
// across objects: what a schema cannot see (a selector that matches nothing, a Secret key nobody
// documented, a volume mounted where the settings do not point). Last, the image's entry point run
// the way the pods run it: uid 10001, nothing writable but the volumes, no Prometheus inside.

const DEPLOY = path.join(ROOT, 'deploy', 'kubernetes');
const RENDERINGS = { base: path.join(DEPLOY, 'base'), overlay: path.join(DEPLOY, 'overlays', 'example') };
const SECRET_EXAMPLE = path.join(DEPLOY, 'overlays', 'example', 'secret.example.env');
const SECRET_NAME = 'mlops-secrets';
const APP_UID = 10001;

/** kustomize's major version inside kubectl, or null when there is no kubectl. */
function kustomizeMajor(): number | null {
  const r = spawnSync('kubectl', ['version', '--client', '-o', 'json'], { encoding: 'utf8' });
  if (r.status !== 0) return null;
  const version = (JSON.parse(r.stdout) as { kustomizeVersion?: string }).kustomizeVersion ?? '';
  const major = /^v?(\d+)\./.exec(version);
  return major ? Number(major[1]) : null;
}
const kubectlSkip = needs((kustomizeMajor() ?? 0) >= 5, 'kubectl with kustomize 5 (the kubectl package)');

// ---------------------------------------------------------------------------------------------
// Rendering and schema validation

/** Rendered YAML is walked loosely typed: the schema validation below is what vouches for its shape. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = any;
type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Labels; annotations?: Labels };
} & Record<string, Loose>;
type Labels = Record<string, string>;
interface Validatable {
  validate(): void;
}
type ModelClass = new (data: never) => Validatable;

// The schema classes by apiVersion/kind: the module that exports each (its class validates, its
// `I<Kind>` interface types the fields).
const MODELS: Record<string, string> = {
  'v1/Namespace': 'kubernetes-models/v1',
  'v1/ServiceAccount': 'kubernetes-models/v1',
  'v1/ConfigMap': 'kubernetes-models/v1',
  'v1/Secret': 'kubernetes-models/v1',
  'v1/Service': 'kubernetes-models/v1',
  'v1/PersistentVolumeClaim': 'kubernetes-models/v1',
  'apps/v1/Deployment': 'kubernetes-models/apps/v1',
  'batch/v1/CronJob': 'kubernetes-models/batch/v1',
  'policy/v1/PodDisruptionBudget': 'kubernetes-models/policy/v1',
  'autoscaling/v2/HorizontalPodAutoscaler': 'kubernetes-models/autoscaling/v2',
  'monitoring.coreos.com/v1/ServiceMonitor': '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1',
};

function modelModule(obj: K8sObject): string {
  const id = `${obj.apiVersion}/${obj.kind}`;
  const module = MODELS[id];
  assert.ok(module, `${id} ${obj.metadata.name}: no schema for this kind (add it to MODELS, or remove the object)`);
  return module;
}

function render(dir: string): K8sObject[] {
  const r = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8' });
  assert.equal(r.status, 0, `kubectl kustomize ${path.relative(ROOT, dir)} failed:\n${r.stderr}`);
  return YAML.parseAllDocuments(r.stdout).map((doc) => {
    assert.equal(doc.errors.length, 0, `rendered YAML does not parse: ${doc.errors.join('; ')}`);
    return doc.toJS() as K8sObject;
  });
}

async function validate(obj: K8sObject): Promise<void> {
  // kubernetes-models ships ES modules only, hence import().
  const Model = ((await import(modelModule(obj))) as Record<string, ModelClass>)[obj.kind];
  try {
    new Model(obj as never).validate();
  } catch (err) {
    assert.fail(`${obj.kind} ${obj.metadata.name} does not match the Kubernetes schema: ${(err as Error).message}`);
  }
}

/**
 * Fields the API does not know (a misspelt `readinesProbe` is silently dropped by the API server,
 * and the schemas above allow extra properties): each object is type-checked as an object literal
 * of its kind's interface, whose excess-property check names any unknown field, at any depth.
 */
function unknownFields(objs: K8sObject[]): string[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-k8s-fields-'));
  try {
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
    // One object per line, so that an error's line names the object.
    const lines = objs.flatMap((o, i) => [
      `import type { I${o.kind} as T${i} } from '${modelModule(o)}';`,
      `export const o${i}: T${i} = ${JSON.stringify(o)};`,
    ]);
    fs.writeFileSync(path.join(dir, 'objects.ts'), lines.join('\n') + '\n');
    const compilerOptions = {
      strict: true,
      noEmit: true,
      target: 'ES2022',
      module: 'ESNext',
      moduleResolution: 'Bundler',
      skipLibCheck: true,
      types: [],
    };
    fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['objects.ts'] }));
    const tsc = spawnSync(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir], { encoding: 'utf8' });
    const errors = tsc.stdout
      .split('\n')
      .filter((l) => /error TS/.test(l))
      .map((l) => {
        const line = Number(/\((\d+),/.exec(l)?.[1] ?? 0);
        const o = objs[Math.floor((line - 1) / 2)];
        return `${o ? `${o.kind} ${o.metadata.name}: ` : ''}${l.replace(/^.*error TS\d+: /, '')}`;
      });
    // Anything else (tsc missing, a crash) must not pass as "no unknown fields".
    if (tsc.status !== 0 && errors.length === 0) errors.push(`tsc failed (${tsc.status}): ${tsc.stderr || tsc.stdout}`);
    return errors;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Lookups across the rendered objects

function only(objs: K8sObject[], kind: string): K8sObject {
  const found = objs.filter((o) => o.kind === kind);
  assert.equal(found.length, 1, `expected one ${kind}, found ${found.length}`);
  return found[0];
}

interface PodOwner {
  owner: string;
  spec: Loose;
  labels: Labels;
}

/** Every pod template in the rendering: the Deployment's and the CronJob's. */
function podTemplates(objs: K8sObject[]): PodOwner[] {
  return objs.flatMap((o): PodOwner[] => {
    if (o.kind === 'Deployment')
      return [{ owner: `Deployment ${o.metadata.name}`, spec: o.spec.template.spec, labels: o.spec.template.metadata.labels }];
    if (o.kind === 'CronJob') {
      const t = o.spec.jobTemplate.spec.template;
      return [{ owner: `CronJob ${o.metadata.name}`, spec: t.spec, labels: t.metadata.labels }];
    }
    return [];
  });
}

type EnvValue = { value: string } | { secret: { name: string; key: string } };

/** A container's environment as the kubelet builds it: envFrom ConfigMaps first, env entries win. */
function containerEnv(objs: K8sObject[], container: Loose): Map<string, EnvValue> {
  const env = new Map<string, EnvValue>();
  for (const from of container.envFrom ?? []) {
    const name = from.configMapRef?.name;
    assert.ok(name, `container ${container.name}: envFrom other than a ConfigMap`);
    const cm = objs.find((o) => o.kind === 'ConfigMap' && o.metadata.name === name);
    assert.ok(cm, `container ${container.name}: envFrom names ConfigMap ${name}, which the rendering does not contain`);
    for (const [k, v] of Object.entries(cm.data ?? {})) env.set(k, { value: String(v) });
  }
  for (const e of container.env ?? []) {
    if (e.valueFrom?.secretKeyRef) env.set(e.name, { secret: e.valueFrom.secretKeyRef });
    else if (e.value !== undefined) env.set(e.name, { value: String(e.value) });
    else assert.fail(`container ${container.name}: env ${e.name} has neither a value nor a secretKeyRef`);
  }
  return env;
}

function literal(env: Map<string, EnvValue>, name: string): string | undefined {
  const v = env.get(name);
  return v && 'value' in v ? v.value : undefined;
}

function matches(selector: Labels | undefined, labels: Labels): boolean {
  assert.ok(selector && Object.keys(selector).length > 0, 'an empty selector selects everything');
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

/** The keys secret.example.env documents (name=placeholder lines). */
function documentedSecretKeys(): Map<string, string> {
  const keys = new Map<string, string>();
  for (const line of fs.readFileSync(SECRET_EXAMPLE, 'utf8').split('\n')) {
    const m = /^([a-z0-9-]+)=(.*)$/.exec(line.trim());
    if (m) keys.set(m[1], m[2]);
  }
  return keys;
}

/** Every string in an object, with its path (for the literal-secret scan). */
function* strings(value: unknown, at = ''): Generator<[string, string]> {
  if (typeof value === 'string') yield [at, value];
  else if (Array.isArray(value)) for (const [i, v] of value.entries()) yield* strings(v, `${at}[${i}]`);
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) yield* strings(v, `${at}.${k}`);
}

const SECRET_NAME_PATTERN = /TOKEN|PASSWORD|SECRET|DATABASE_URL|CREDENTIAL|API_KEY/i;

// ---------------------------------------------------------------------------------------------

for (const [which, dir] of Object.entries(RENDERINGS)) {
  describe(`deploy/kubernetes ${which}`, { skip: kubectlSkip }, () => {
    let objs: K8sObject[] = [];
    before(() => {
      objs = render(dir);
    });

    test('every rendered object is a known kind and valid against its Kubernetes schema', async () => {
      assert.ok(objs.length >= 9, `only ${objs.length} objects rendered`);
      for (const obj of objs) await validate(obj);
    });

    test('no object has a field its kind does not define', () => {
      assert.deepEqual(unknownFields(objs), []);
    });

    test('the server Deployment: api mode, probes on /readyz and /healthz, replicas as the autoscaler expects', () => {
      const deployment = only(objs, 'Deployment');
      const hpa = only(objs, 'HorizontalPodAutoscaler');
      if (which === 'base') assert.equal(deployment.spec.replicas, 3);
      assert.equal(deployment.spec.replicas, hpa.spec.minReplicas, 'the autoscaler would scale the Deployment below its replica count');
      const [server] = deployment.spec.template.spec.containers;
      const env = containerEnv(objs, server);
      assert.equal(literal(env, 'MODE'), 'api');
      assert.equal(literal(env, 'MLOPS_HOST'), '0.0.0.0', 'the server must listen beyond loopback inside the pod');
      assert.equal(literal(env, 'MLOPS_PROMETHEUS'), 'off', 'no Prometheus inside a pod with a read-only root');
      const port = server.ports.find((p: { name: string }) => p.name === 'http');
      assert.ok(port, 'no container port named http');
      assert.equal(String(port.containerPort), literal(env, 'MLOPS_PORT') ?? '8000', 'the container port is not where the server listens');
      for (const [probe, p] of [
        ['readinessProbe', '/readyz'],
        ['livenessProbe', '/healthz'],
        ['startupProbe', '/healthz'],
      ]) {
        assert.equal(server[probe]?.httpGet?.path, p, `${probe} path`);
        assert.ok([port.name, port.containerPort].includes(server[probe].httpGet.port), `${probe} probes another port`);
      }
      for (const r of ['requests', 'limits']) {
        assert.ok(server.resources?.[r]?.cpu && server.resources[r].memory, `server resources.${r} needs cpu and memory`);
      }
      const a = deployment.spec.template.metadata.annotations ?? {};
      assert.equal(a['prometheus.io/scrape'], 'true');
      assert.equal(a['prometheus.io/port'], String(port.containerPort));
      assert.equal(a['prometheus.io/path'], '/metrics');
    });

    test('the server settings pass its own exposure check, so every probe Host is answered', () => {
      const [server] = only(objs, 'Deployment').spec.template.spec.containers;
      const env: NodeJS.ProcessEnv = {};
      for (const [k, v] of containerEnv(objs, server)) env[k] = 'value' in v ? v.value : `placeholder-for-${v.secret.key}`;
      const config = loadConfig({}, env);
      assert.doesNotThrow(() => checkExposure(config));
      assert.equal(config.allowInsecureBind, false, 'the manifests must not switch the exposure check off');
      // The kubelet's probes send Host: <pod IP>, answered only when every scope has credentials.
      assert.ok(everyScopeProtected(config), 'a scope without credentials: the probes would be refused');
      assert.equal(hostPolicy(config.host, config.allowedHosts, true).anyHost, true);
    });

    test('every pod runs as uid 10001, non-root, read-only root, no privilege escalation, no capabilities, seccomp', () => {
      const pods = podTemplates(objs);
      assert.equal(pods.length, 2, 'expected the server and the training pod');
      for (const { owner, spec } of pods) {
        const podCtx = spec.securityContext ?? {};
        assert.equal(spec.automountServiceAccountToken, false, `${owner}: the pod needs no API token`);
        for (const c of spec.containers.concat(spec.initContainers ?? [])) {
          const ctx = { ...podCtx, ...c.securityContext };
          const where = `${owner} container ${c.name}`;
          assert.equal(ctx.runAsNonRoot, true, `${where}: runAsNonRoot`);
          assert.equal(ctx.runAsUser, APP_UID, `${where}: runAsUser`);
          assert.equal(c.securityContext?.readOnlyRootFilesystem, true, `${where}: readOnlyRootFilesystem`);
          assert.equal(c.securityContext?.allowPrivilegeEscalation, false, `${where}: allowPrivilegeEscalation`);
          assert.notEqual(c.securityContext?.privileged, true, `${where}: privileged`);
          assert.deepEqual(c.securityContext?.capabilities?.drop, ['ALL'], `${where}: capabilities.drop`);
          assert.equal(ctx.seccompProfile?.type, 'RuntimeDefault', `${where}: seccompProfile`);
        }
      }
    });

    test('the writable places are volumes: /tmp and the data dir on emptyDir, the artifacts on the RWX claim', () => {
      const pvc = only(objs, 'PersistentVolumeClaim');
      assert.deepEqual(pvc.spec.accessModes, ['ReadWriteMany'], 'replicas on several nodes share the artifacts');
      for (const { owner, spec } of podTemplates(objs)) {
        for (const c of spec.containers) {
          const env = containerEnv(objs, c);
          const mountAt = (p: string | undefined) => {
            assert.ok(p, `${owner}: setting missing`);
            const m = c.volumeMounts?.find((v: { mountPath: string }) => path.posix.normalize(v.mountPath) === path.posix.normalize(p));
            assert.ok(m, `${owner} container ${c.name}: nothing mounted at ${p}`);
            assert.notEqual(m.readOnly, true, `${owner}: ${p} is mounted read-only`);
            return spec.volumes.find((v: { name: string }) => v.name === m.name);
          };
          assert.ok(mountAt('/tmp').emptyDir, `${owner}: /tmp is not an emptyDir`);
          assert.ok(mountAt(literal(env, 'MLOPS_DATA_DIR')).emptyDir, `${owner}: MLOPS_DATA_DIR is not an emptyDir`);
          const artifacts = mountAt(literal(env, 'MLOPS_ARTIFACT_DIR'));
          assert.equal(
            artifacts.persistentVolumeClaim?.claimName,
            pvc.metadata.name,
            `${owner}: MLOPS_ARTIFACT_DIR is not the artifacts claim`,
          );
        }
      }
    });

    test('the CronJob trains (MODE=train), one at a time, with a bounded retry policy', () => {
      const cron = only(objs, 'CronJob');
      assert.equal(cron.spec.concurrencyPolicy, 'Forbid');
      const job = cron.spec.jobTemplate.spec;
      assert.ok(Number.isInteger(job.backoffLimit) && job.backoffLimit <= 6, 'backoffLimit');
      assert.ok(job.podFailurePolicy?.rules?.length > 0, 'podFailurePolicy');
      assert.equal(job.template.spec.restartPolicy, 'Never', 'podFailurePolicy needs restartPolicy Never');
      const [train] = job.template.spec.containers;
      const failJob = job.podFailurePolicy.rules.find((r: { action: string }) => r.action === 'FailJob');
      assert.equal(failJob?.onExitCodes?.containerName, train.name, 'the FailJob rule names another container');
      const env = containerEnv(objs, train);
      assert.equal(literal(env, 'MODE'), 'train');
      assert.ok('secret' in (env.get('MLOPS_DATABASE_URL') ?? {}), 'the training job registers into the shared database');
    });

    test('the selectors find the server pods: Deployment, Service, PodDisruptionBudget, HPA, ServiceMonitor', () => {
      const deployment = only(objs, 'Deployment');
      const podLabels = deployment.spec.template.metadata.labels;
      assert.ok(matches(deployment.spec.selector.matchLabels, podLabels), 'Deployment selector');
      const service = only(objs, 'Service');
      assert.equal(service.spec.type ?? 'ClusterIP', 'ClusterIP');
      assert.ok(matches(service.spec.selector, podLabels), 'Service selector does not match the pod labels');
      const containerPorts = deployment.spec.template.spec.containers.flatMap((c: { ports?: object[] }) => c.ports ?? []);
      for (const p of service.spec.ports) {
        assert.ok(
          containerPorts.some((cp: { name: string; containerPort: number }) => [cp.name, cp.containerPort].includes(p.targetPort)),
          `Service port ${p.name}: no such container port`,
        );
      }
      // The training pods must not receive traffic nor count in the budget.
      const trainLabels = only(objs, 'CronJob').spec.jobTemplate.spec.template.metadata.labels;
      assert.ok(!matches(service.spec.selector, trainLabels), 'the Service would route to training pods');
      const pdb = only(objs, 'PodDisruptionBudget');
      assert.ok(matches(pdb.spec.selector.matchLabels, podLabels), 'PodDisruptionBudget selector');
      assert.ok(!matches(pdb.spec.selector.matchLabels, trainLabels), 'the budget would count training pods');
      const budget = pdb.spec.maxUnavailable ?? deployment.spec.replicas - pdb.spec.minAvailable;
      assert.ok(budget >= 1, 'the budget allows no disruption: node drains would hang');
      const hpa = only(objs, 'HorizontalPodAutoscaler');
      assert.deepEqual(hpa.spec.scaleTargetRef, { apiVersion: 'apps/v1', kind: 'Deployment', name: deployment.metadata.name });
      assert.ok(
        hpa.spec.metrics.some((m: { resource?: { name: string } }) => m.resource?.name === 'cpu'),
        'the autoscaler scales on CPU',
      );
      const monitor = only(objs, 'ServiceMonitor');
      assert.ok(
        matches(monitor.spec.selector.matchLabels, service.metadata.labels ?? {}),
        'ServiceMonitor selector does not match the Service',
      );
      for (const e of monitor.spec.endpoints) {
        assert.ok(
          service.spec.ports.some((p: { name: string }) => p.name === e.port),
          `ServiceMonitor endpoint port ${e.port}: not a Service port`,
        );
        assert.equal(e.path, '/metrics');
      }
    });

    test('secrets are referenced by documented keys, and no secret value is written anywhere', () => {
      const documented = documentedSecretKeys();
      assert.ok(documented.size > 0, 'secret.example.env lists no keys');
      const referenced = new Set<string>();
      const check = (ref: { name: string; key: string }, where: string) => {
        assert.equal(ref.name, SECRET_NAME, `${where}: references Secret ${ref.name}`);
        assert.ok(documented.has(ref.key), `${where}: key ${ref.key} is not in secret.example.env`);
        referenced.add(ref.key);
      };
      for (const { owner, spec } of podTemplates(objs)) {
        for (const c of spec.containers) {
          for (const [name, v] of containerEnv(objs, c)) {
            if ('secret' in v) check(v.secret, `${owner} env ${name}`);
            else assert.ok(!SECRET_NAME_PATTERN.test(name), `${owner}: ${name} is a literal value; it must come from the Secret`);
          }
        }
      }
      for (const e of only(objs, 'ServiceMonitor').spec.endpoints) {
        if (e.authorization?.credentials) check(e.authorization.credentials, 'ServiceMonitor authorization');
      }
      assert.deepEqual(
        [...documented.keys()].filter((k) => !referenced.has(k)),
        [],
        'secret.example.env documents keys nothing uses',
      );
      for (const [key, placeholder] of documented) {
        assert.match(placeholder, /CHANGE_ME/, `secret.example.env ${key} holds something other than a placeholder`);
      }
      assert.equal(objs.filter((o) => o.kind === 'Secret').length, 0, 'a Secret with values is rendered from the repository');
      for (const obj of objs) {
        for (const [at, s] of strings(obj)) {
          assert.doesNotMatch(s, /:\/\/[^/\s:@]+:[^@\s]+@/, `${obj.kind} ${obj.metadata.name}${at}: a URL with a password`);
        }
        if (obj.kind === 'ConfigMap') {
          for (const k of Object.keys(obj.data ?? {}))
            assert.ok(!SECRET_NAME_PATTERN.test(k), `ConfigMap ${obj.metadata.name}: ${k} belongs in the Secret`);
        }
      }
    });

    if (which === 'overlay') {
      test('the overlay puts everything in its namespace and pins the image', () => {
        const ns = only(objs, 'Namespace').metadata.name;
        for (const o of objs.filter((x) => x.kind !== 'Namespace')) assert.equal(o.metadata.namespace, ns, `${o.kind} ${o.metadata.name}`);
        for (const { owner, spec } of podTemplates(objs)) {
          for (const c of spec.containers) {
            assert.match(c.image, /^[^:@\s]+\/[^:@\s]+:(?!latest$)[\w.-]+$/, `${owner}: image ${c.image} is not a pinned registry image`);
          }
        }
        assert.ok(only(objs, 'PersistentVolumeClaim').spec.storageClassName, 'the example overlay names a storage class');
      });
    }
  });
}

// ---------------------------------------------------------------------------------------------
// The image's entry point as the pod runs it: uid 10001, nothing writable but the mounted dirs.

const asRoot = process.getuid?.() === 0;
const setpriv = spawnSync('setpriv', ['--version']).status === 0;
const built = fs.existsSync(path.join(ROOT, 'dist', 'server.js'));
const entrySkip = needs(asRoot && setpriv && built, 'root, setpriv (util-linux) and a built dist/ (npm run build)');

/** Hard links when the tree is on the same filesystem (instant), else a copy. */
function linkOrCopy(from: string, to: string): void {
  if (spawnSync('cp', ['-al', from, to]).status !== 0) fs.cpSync(from, to, { recursive: true });
}

/** What the image holds at /opt/mlops: the project without its git folder and local data. */
const NOT_IN_IMAGE = new Set(['.git', 'local_data', 'test-results']);

describe('the entry point as the pods run it: uid 10001, read-only root, MLOPS_PROMETHEUS=off', { skip: entrySkip }, () => {
  // uid 10001 cannot traverse a project under /root (CI's second leg copies it to /root/.cache):
  // the image's content is laid out in a world-readable folder owned by root, so that only the
  // "mounted" folders (data, artifacts, tmp) are writable for uid 10001, as with a read-only root.
  let top = '';
  const app = () => path.join(top, 'app');
  const volumes = ['data', 'artifacts', 'tmp'];
  const token = () => crypto.randomBytes(16).toString('hex');

  before(() => {
    top = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-k8s-'));
    fs.chmodSync(top, 0o755);
    fs.mkdirSync(app());
    for (const item of fs.readdirSync(ROOT)) {
      if (!NOT_IN_IMAGE.has(item)) linkOrCopy(path.join(ROOT, item), path.join(app(), item));
    }
    fs.mkdirSync(path.join(top, 'node'));
    linkOrCopy(process.execPath, path.join(top, 'node', 'node'));
    for (const dir of volumes) {
      fs.mkdirSync(path.join(top, dir));
      fs.chownSync(path.join(top, dir), APP_UID, APP_UID);
    }
  });
  after(() => {
    if (top) fs.rmSync(top, { recursive: true, force: true });
  });

  /** The entry point under uid 10001 with a clean environment (the pod's, not the test's). */
  function entrypoint(env: NodeJS.ProcessEnv) {
    const child = spawn(
      'setpriv',
      ['--reuid', String(APP_UID), '--regid', String(APP_UID), '--clear-groups', '--', path.join(app(), '.devcontainer', 'entrypoint.sh')],
      {
        cwd: '/',
        env: {
          PATH: '/usr/local/bin:/usr/bin:/bin',
          HOME: path.join(top, 'tmp'),
          TMPDIR: path.join(top, 'tmp'),
          NODE: path.join(top, 'node', 'node'),
          MLOPS_PROMETHEUS: 'off',
          MLOPS_DATA_DIR: path.join(top, 'data'),
          MLOPS_ARTIFACT_DIR: path.join(top, 'artifacts'),
          GIT_BRANCH: 'test',
          GIT_HEAD: 'test',
          ...env,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    let code: number | null | undefined;
    // A hung process is stopped (SIGTERM: the entry point stops what it started) rather than hanging CI.
    const timer = setTimeout(() => child.kill('SIGTERM'), 180_000);
    const exited = new Promise<number | null>((resolve) =>
      child.on('close', (c) => {
        clearTimeout(timer);
        resolve((code = c));
      }),
    );
    return { child, exited, output: () => output, code: () => code };
  }

  /** Files uid 10001 owns outside the volumes: the read-only root would have refused them. */
  function writtenOutsideVolumes(): string {
    const outside = volumes.flatMap((v) => ['-not', '-path', `${top}/${v}*`]);
    return spawnSync('find', [top, '-uid', String(APP_UID), ...outside], { encoding: 'utf8' }).stdout.trim();
  }

  test('MODE=train (the CronJob) trains and registers as uid 10001, writing only to its volumes', async () => {
    const run = entrypoint({ MODE: 'train' });
    const code = await run.exited;
    assert.equal(code, 0, `the training failed:\n${run.output()}`);
    assert.match(run.output(), /registered iris version 1/);
    assert.equal(writtenOutsideVolumes(), '', 'files written outside the mounted folders');
  });

  test('MODE=api (the Deployment) serves as uid 10001 with its tokens, writes only to its volumes, stops on SIGTERM', async () => {
    const port = await freePort();
    const metricsToken = token();
    const predictToken = token();
    const server = entrypoint({
      MODE: 'api',
      MLOPS_HOST: '127.0.0.1',
      MLOPS_PORT: String(port),
      MLOPS_API_TOKEN: token(),
      PREDICT_TOKEN: predictToken,
      METRICS_TOKEN: metricsToken,
      MLOPS_FEEDBACK_TOKEN: token(),
    });
    const base = `http://127.0.0.1:${port}`;
    try {
      // Ready means the model trained above is loaded and verified.
      await waitFor(
        '/readyz',
        async () => {
          if (server.code() !== undefined) assert.fail(`the entry point exited (${server.code()}) before serving:\n${server.output()}`);
          return (await fetch(`${base}/readyz`).catch(() => null))?.status === 200 ? true : undefined;
        },
        60_000,
      ).catch((err: Error) => assert.fail(`${err.message}\n${server.output()}`));
      assert.equal((await fetch(`${base}/healthz`)).status, 200);
      const predict = (authorization?: string) =>
        fetch(`${base}/predict`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
          body: JSON.stringify([{ sepal_length: 6.7, sepal_width: 3.5, petal_length: 5.2, petal_width: 2.3 }]),
        });
      assert.equal((await predict()).status, 401, 'the predict token from the environment is not in force');
      assert.equal((await predict(`Bearer ${predictToken}`)).status, 200);
      assert.equal((await fetch(`${base}/metrics`)).status, 401, 'the metrics token from the environment is not in force');
      assert.equal((await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${metricsToken}` } })).status, 200);

      const processes = processTree(server.child.pid!);
      assert.ok(processes.length >= 2, 'expected the entry point and the server');
      for (const pid of processes) assert.equal(uidOf(pid), APP_UID, `process ${pid} (${commandOf(pid)}) is not uid ${APP_UID}`);
      assert.ok(!processes.some((pid) => /prometheus/.test(commandOf(pid))), 'Prometheus started despite MLOPS_PROMETHEUS=off');
      assert.ok(!fs.existsSync(path.join(top, 'data', 'prometheus')), 'the entry point prepared Prometheus despite MLOPS_PROMETHEUS=off');
      assert.equal(writtenOutsideVolumes(), '', 'files written outside the mounted folders');
    } finally {
      server.child.kill('SIGTERM');
    }
    assert.equal(await server.exited, 0, `the entry point did not stop cleanly on SIGTERM:\n${server.output()}`);
  });
});

/** A process and its descendants (from /proc). */
function processTree(root: number): number[] {
  const parents = new Map<number, number>();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      // Field 4 of /proc/PID/stat, after the command in parentheses, is the parent's pid.
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      parents.set(Number(name), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // the process ended meanwhile
    }
  }
  const tree = [root];
  for (let i = 0; i < tree.length; i++) for (const [pid, ppid] of parents) if (ppid === tree[i]) tree.push(pid);
  return tree;
}

function uidOf(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/^Uid:\s+(\d+)/m.exec(status)![1]);
}

function commandOf(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '?';
  }
}
