import assert from 'node:assert/strict';
import { test } from 'node:test';
import { channelLevel, serverLogLine } from '../../extension/server/log-lines';

test("pino's levels map to the log channel's", () => {
  assert.deepEqual([10, 20, 30, 40, 50, 60].map(channelLevel), ['trace', 'debug', 'info', 'warn', 'error', 'error']);
  assert.deepEqual([5, 15, 25, 35, 45, 99].map(channelLevel), ['trace', 'debug', 'info', 'warn', 'error', 'error']);
});

test('server output lines read as text at their level; other lines at the fallback level', () => {
  assert.deepEqual(serverLogLine('{"level":20,"msg":"swap check"}', 'info'), { level: 'debug', text: 'swap check' });
  const request = { level: 30, reqId: 'r1', req: { method: 'POST', url: '/predict' }, res: { statusCode: 200 }, msg: 'done' };
  assert.deepEqual(serverLogLine(JSON.stringify(request), 'info'), { level: 'info', text: 'done POST /predict 200 (r1)' });
  const failed = serverLogLine('{"level":50,"msg":"load failed","err":{"message":"bad onnx"}}', 'info');
  assert.deepEqual(failed, { level: 'error', text: 'load failed bad onnx' });
  assert.deepEqual(serverLogLine('{"level":30,"runner":"step etl: 150 rows"}', 'info'), { level: 'info', text: 'step etl: 150 rows' });
  assert.deepEqual(serverLogLine('{"level":10}', 'info'), { level: 'trace', text: '{"level":10}' });
  const stack = '    at Object.<anonymous> (server.js:1:1)';
  assert.deepEqual(serverLogLine(stack, 'warn'), { level: 'warn', text: stack });
  assert.deepEqual(serverLogLine('{"no":"level"}', 'warn'), { level: 'warn', text: '{"no":"level"}' });
  assert.deepEqual(serverLogLine('null', 'info'), { level: 'info', text: 'null' });
});
