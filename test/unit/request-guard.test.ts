import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hostAllowed, hostnameOf, hostPolicy } from '../../server/plugins/request-guard';

test('Host names: port dropped, case and IPv4 forms normalised, junk refused', () => {
  assert.equal(hostnameOf('LocalHost:8000'), 'localhost');
  assert.equal(hostnameOf('127.1:80'), '127.0.0.1');
  assert.equal(hostnameOf('[::1]:8000'), '[::1]');
  assert.equal(hostnameOf('example.com.'), 'example.com');
  for (const junk of ['a b', 'user@host', 'host/path', 'host?q']) assert.equal(hostnameOf(junk), null, junk);
});

test('loopback binds answer loopback names and configured ones only', () => {
  const p = hostPolicy('127.0.0.1', ['mlops.internal'], true);
  for (const ok of ['localhost', '127.0.0.1:1', '127.9.9.9', '[::1]', 'mlops.internal:8000']) assert.ok(hostAllowed(ok, p), ok);
  for (const no of ['attacker.example', '10.0.0.1', undefined, '']) assert.ok(!hostAllowed(no, p), String(no));
});

test('a non-loopback bind adds its address only with credentials on every scope; a wildcard bind then answers any Host', () => {
  assert.ok(hostAllowed('10.1.2.3:8000', hostPolicy('10.1.2.3', [], true)));
  assert.ok(!hostAllowed('10.1.2.3:8000', hostPolicy('10.1.2.3', [], false)));
  assert.ok(hostAllowed('anything.example', hostPolicy('0.0.0.0', [], true)));
  assert.ok(hostAllowed('anything.example', hostPolicy('::', [], true)));
  assert.ok(!hostAllowed('anything.example', hostPolicy('0.0.0.0', [], false)), 'insecure bind (no auth): loopback names only');
});
