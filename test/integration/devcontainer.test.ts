import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { ROOT } from '../helpers/cli';
import { readDevcontainerConfig, vsixPaths } from '../helpers/devcontainer';
import { CODE_SERVER_VERSION } from '../e2e/code-server';

const dockerfile = fs.readFileSync(path.join(ROOT, '.devcontainer', 'Dockerfile'), 'utf8');
const LIFECYCLE = [
  'initializeCommand',
  'onCreateCommand',
  'updateContentCommand',
  'postCreateCommand',
  'postStartCommand',
  'postAttachCommand',
];

test('the Dev Containers CLI reads .devcontainer/devcontainer.json as VS Code will', () => {
  const c = readDevcontainerConfig({ GIT_BRANCH: 'feature-x', GIT_HEAD: 'abc123' });
  assert.equal(c.build.dockerfile, 'Dockerfile');
  assert.equal(c.build.args.BASE, 'node:24-bookworm');
  assert.deepEqual(c.forwardPorts, [8000, 9090]);
  assert.equal(c.portsAttributes['8000'].label, 'MLOps API');
  assert.equal(c.portsAttributes['9090'].label, 'Prometheus');
  assert.equal(c.containerEnv.MODE, 'vsc');
  assert.equal(c.containerEnv.GIT_BRANCH, 'feature-x');
  assert.equal(c.containerEnv.GIT_HEAD, 'abc123');
  assert.ok(
    c.mounts.some((m: string) => /^type=tmpfs,target=.*\/local_data$/.test(m)),
    'local_data on tmpfs',
  );
  assert.match(dockerfile, /^ARG BASE=node:24-bookworm$/m);
  assert.match(dockerfile, /^FROM \$\{BASE\}$/m);
  assert.match(dockerfile, /prometheus python3 .* git/);
});

test('the extension is installed by VS Code from the image, not by a lifecycle command', () => {
  const c = readDevcontainerConfig();
  assert.deepEqual(vsixPaths(c), ['/opt/mlops/mlops.vsix']);
  // The image packages the extension at exactly the path listed.
  assert.match(dockerfile, /npm run package[\s\S]*mv dist\/mlops\.vsix \/opt\/mlops\/mlops\.vsix/);
  // postCreate only sets up the project, from the npm cache the image filled.
  assert.equal(c.postCreateCommand, 'bash .devcontainer/install-deps.sh --prefer-offline && npm run build');
  for (const name of LIFECYCLE) {
    const commands = [c[name]]
      .flat()
      .flatMap((v) => (v && typeof v === 'object' ? Object.values(v) : [v]))
      .filter((v) => v !== undefined);
    for (const command of commands.flat()) {
      const hides = /\|\|\s*(true|:|exit 0)\b|;\s*(true|:)\s*$|--install-extension/;
      assert.doesNotMatch(String(command), hides, `${name} hides no failure and installs nothing`);
    }
  }
});

test('the image builds code-server at the version the end-to-end test drives', () => {
  assert.match(dockerfile, new RegExp(`^ARG CODE_SERVER_VERSION=${CODE_SERVER_VERSION.replace(/\./g, '\\.')}$`, 'm'));
});
