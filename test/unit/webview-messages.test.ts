import assert from 'node:assert/strict';
import { test } from 'node:test';
import fs from 'node:fs';
import path from 'node:path';
import { parseWebviewMessage, WEBVIEW_COMMANDS } from '../../common/webview-messages';
import { ROOT } from '../helpers/cli';

test('the extension acts only on well-formed webview messages', () => {
  assert.deepEqual(parseWebviewMessage({ type: 'ready' }), { type: 'ready' });
  assert.deepEqual(parseWebviewMessage({ type: 'command', command: 'openDocs' }), { type: 'command', command: 'openDocs' });
  for (const bad of [
    null,
    'ready',
    42,
    [],
    { type: 'ready', extra: 1 },
    { type: 'command', command: 'workbench.action.terminal.new' },
    { type: 'command', command: 'openDocs', args: ['rm -rf /'] },
    { type: 'command' },
    { type: 'Command', command: 'openDocs' },
    { type: '__proto__' },
  ]) {
    assert.equal(parseWebviewMessage(bad), null, JSON.stringify(bad));
  }
});

test('every webview command maps to a command the extension contributes', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { contributes: { commands: { command: string }[] } };
  const contributed = new Set(pkg.contributes.commands.map((c) => c.command));
  for (const [name, id] of Object.entries(WEBVIEW_COMMANDS)) {
    assert.ok(contributed.has(id), `${name} → ${id} is contributed`);
    assert.deepEqual(parseWebviewMessage({ type: 'command', command: name }), { type: 'command', command: name });
  }
  assert.equal(parseWebviewMessage({ type: 'command', command: 'hasOwnProperty' }), null);
});
