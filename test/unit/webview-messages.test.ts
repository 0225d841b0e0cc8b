import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseWebviewMessage } from '../../common/contract';

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
