import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { apiTokenHeader, apiTokenPath, ensureApiToken, readApiToken } from '../../common/api-token';
import { tempDataDir } from '../helpers/cli';

const MODULE = path.resolve(__dirname, '..', '..', 'common', 'api-token.ts');

test('the token is created once, owner-only, and read back the same', () => {
  const dir = path.join(tempDataDir(), 'not-yet');
  assert.equal(readApiToken(dir), null);
  assert.deepEqual(apiTokenHeader(dir), {});
  const token = ensureApiToken(dir);
  assert.match(token, /^[A-Za-z0-9_-]{43}$/);
  assert.equal(fs.statSync(apiTokenPath(dir)).mode & 0o777, 0o600);
  assert.equal(ensureApiToken(dir), token);
  assert.deepEqual(apiTokenHeader(dir), { authorization: `Bearer ${token}` });
  assert.deepEqual(fs.readdirSync(dir), ['api-token'], 'no staged file left behind');
});

test('an empty token file is replaced; one readable by others is narrowed to its owner', () => {
  const dir = tempDataDir();
  fs.writeFileSync(apiTokenPath(dir), '');
  assert.ok(ensureApiToken(dir).length > 40);
  fs.writeFileSync(apiTokenPath(dir), 'kept\n');
  fs.chmodSync(apiTokenPath(dir), 0o644);
  assert.equal(ensureApiToken(dir), 'kept');
  assert.equal(fs.statSync(apiTokenPath(dir)).mode & 0o777, 0o600);
});

test('processes creating the token together all end with the same one', async () => {
  const dir = tempDataDir();
  const script = `const { ensureApiToken } = require(${JSON.stringify(MODULE)}); process.stdout.write(ensureApiToken(process.argv[1]));`;
  const tokens = await Promise.all(
    Array.from({ length: 6 }, () => {
      const child = spawn(process.execPath, ['--require', 'tsx/cjs', '-e', script, dir]);
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      return new Promise<string>((resolve) => child.on('close', () => resolve(out)));
    }),
  );
  assert.equal(new Set(tokens).size, 1, tokens.join(' '));
  assert.equal(tokens[0], readApiToken(dir));
});
