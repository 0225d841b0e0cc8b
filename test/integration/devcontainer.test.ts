import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { ROOT } from '../helpers/cli';

test('the Dev Containers CLI reads .devcontainer/devcontainer.json as VS Code will', () => {
  const cli = path.join(ROOT, 'node_modules', '@devcontainers', 'cli', 'devcontainer.js');
  const r = spawnSync(process.execPath, [cli, 'read-configuration', '--workspace-folder', ROOT, '--docker-path', '/bin/true'], {
    encoding: 'utf8',
    env: { ...process.env, GIT_BRANCH: 'feature-x', GIT_HEAD: 'abc123' },
  });
  assert.equal(r.status, 0, r.stderr);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the CLI's JSON, checked field by field below
  const { configuration: c } = JSON.parse(r.stdout) as { configuration: Record<string, any> };
  assert.equal(c.build.dockerfile, 'Dockerfile');
  assert.equal(c.build.args.BASE, 'node:24-bookworm');
  assert.deepEqual(c.forwardPorts, [8000, 9090]);
  assert.equal(c.portsAttributes['8000'].label, 'MLOps API');
  assert.equal(c.portsAttributes['9090'].label, 'Prometheus');
  assert.equal(c.containerEnv.MODE, 'vsc');
  assert.equal(c.containerEnv.GIT_BRANCH, 'feature-x');
  assert.equal(c.containerEnv.GIT_HEAD, 'abc123');
  assert.ok(c.mounts.some((m: string) => /^type=tmpfs,target=.*\/local_data$/.test(m)), 'local_data on tmpfs');
  assert.match(c.postCreateCommand, /npm ci --prefer-offline .* npm run package .* --install-extension dist\/mlops\.vsix/);
  const dockerfile = fs.readFileSync(path.join(ROOT, '.devcontainer', 'Dockerfile'), 'utf8');
  assert.match(dockerfile, /^ARG BASE=node:24-bookworm$/m);
  assert.match(dockerfile, /^FROM \$\{BASE\}$/m);
  assert.match(dockerfile, /prometheus python3 .* git/);
});
