import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { errors } from '../../common/errors';
import { errorMessage } from '../../extension/error-message';
import { checkSettings } from '../../extension/settings-check';
import { ROOT } from '../helpers/cli';

interface Property {
  type: string;
  default: unknown;
  minimum?: number;
  maximum?: number;
  scope?: string;
  pattern?: string;
}
interface Manifest {
  activationEvents: string[];
  capabilities: { untrustedWorkspaces: { supported: boolean | string; description?: string } };
  contributes: {
    commands: { command: string }[];
    configuration: { properties: Record<string, Property> };
    walkthroughs: { steps: { id: string; completionEvents: string[] }[] }[];
  };
}
const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as Manifest;
const props = manifest.contributes.configuration.properties;

test('settings: defaults apply, values are trimmed, the workspace folder is the default project', () => {
  const s = checkSettings({ 'server.host': ' ', defaultAlias: '', nodePath: ' /opt/node/bin/node ' }, '/ws');
  assert.deepEqual(s, {
    ...{ host: '127.0.0.1', port: 8000, autoStart: true, nodePath: '/opt/node/bin/node' },
    ...{ dataDirectory: '', pipeline: '', defaultAlias: 'production', model: '', projectDirectory: '/ws' },
  });
  const defaults = Object.fromEntries(Object.entries(props).map(([k, v]) => [k.slice('mlops.'.length), v.default]));
  assert.deepEqual(checkSettings(defaults, null), { ...s, nodePath: 'node', projectDirectory: null });
});

test('settings: a bad value is refused by name with what is expected', () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ 'server.port': 0 }, /setting mlops\.server\.port must be a whole number from 1 to 65535, got 0/],
    [{ 'server.port': 70000 }, /got 70000/],
    [{ 'server.port': 80.5 }, /got 80\.5/],
    [{ 'server.port': '8000' }, /got "8000"/],
    [{ 'server.host': 'http://x' }, /mlops\.server\.host must be a host name or IP address/],
    [{ defaultAlias: 'latest' }, /mlops\.defaultAlias must be an alias .*"latest" always means the newest version/],
    [{ defaultAlias: '../x' }, /mlops\.defaultAlias/],
    [{ nodePath: 42 }, /setting mlops\.nodePath must be a string, got 42/],
    [{ model: 'models:/iris@' }, /setting mlops\.model must be a model URI \(invalid model URI/],
    [{ model: 's3://bucket/iris' }, /mlops\.model .*the scheme must be 'models:\/'/],
  ];
  for (const [raw, message] of cases) assert.throws(() => checkSettings(raw, null), message, JSON.stringify(raw));
});

test('the settings schema matches the checks: exact types, ranges, machine scope for paths', () => {
  const port = props['mlops.server.port'];
  assert.deepEqual([port.type, port.minimum, port.maximum], ['integer', 1, 65535]);
  for (const key of ['mlops.nodePath', 'mlops.dataDirectory', 'mlops.projectDirectory']) {
    assert.equal(props[key].scope, 'machine-overridable', key);
  }
  const alias = new RegExp(props['mlops.defaultAlias'].pattern!);
  for (const ok of ['production', 'staging', 'v2.1_rc-1']) assert.match(ok, alias);
  for (const bad of ['latest', '42', 'a..b', '-x', '']) assert.doesNotMatch(bad, alias);
});

test('activation: on the project (pipelines, a registry), the views and the commands, not on every start-up', () => {
  assert.ok(!manifest.activationEvents.includes('onStartupFinished'));
  assert.ok(!manifest.activationEvents.includes('*'));
  const expected = ['workspaceContains:local_data/mlops.sqlite', 'workspaceContains:pipeline/**/pipeline.ts'];
  expected.push('onView:mlops.runs', 'onView:mlops.models');
  for (const e of expected) {
    assert.ok(manifest.activationEvents.includes(e), e);
  }
  assert.equal(manifest.capabilities.untrustedWorkspaces.supported, false);
  assert.ok(manifest.capabilities.untrustedWorkspaces.description);
  const serve = manifest.contributes.walkthroughs[0].steps.find((s) => s.id === 'serve')!;
  assert.ok(serve.completionEvents.includes('onContext:mlops.serverReachable'));
});

/** The extension's sources: [path under extension/, text]. */
function extensionSources(): (readonly [string, string])[] {
  const dir = path.join(ROOT, 'extension');
  const files = fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
  return files.map((f) => [f, fs.readFileSync(path.join(dir, f), 'utf8')] as const);
}

test('every command is registered through the one wrapper, and every contributed command is registered', () => {
  const sources = extensionSources();
  const direct = sources.filter(([f, text]) => f !== path.join('commands', 'register.ts') && text.includes('registerCommand('));
  assert.deepEqual(
    direct.map(([f]) => f),
    [],
  );
  const registered = new Set(sources.flatMap(([, text]) => [...text.matchAll(/command\(d, '([\w.]+)'/g)].map((m) => m[1])));
  assert.deepEqual(
    manifest.contributes.commands.map((c) => c.command).filter((id) => !registered.has(id)),
    [],
  );
});

test("'production' is written nowhere in the extension's code: mlops.defaultAlias decides", () => {
  const hits = extensionSources()
    .filter(([, text]) => text.includes("'production'"))
    .map(([f]) => f);
  // The fallback default, and the server's own default.
  assert.deepEqual(hits.sort(), [path.join('server', 'server-process.ts'), 'settings-check.ts']);
});

test('command errors: catalogue messages as they are, network failures named', () => {
  const url = 'http://127.0.0.1:8000';
  assert.equal(errorMessage(errors.noProject(), url), 'open the project folder first (or set mlops.projectDirectory)');
  assert.equal(errorMessage(new TypeError('fetch failed'), url), `the MLOps server at ${url} is not reachable: MLOps: Start Server`);
  assert.equal(errorMessage(new DOMException('timed out', 'TimeoutError'), url), `the MLOps server at ${url} did not answer in time`);
  assert.equal(errorMessage(new Error("model 'x' not found"), url), "model 'x' not found");
  assert.equal(errorMessage('odd', url), 'odd');
});
