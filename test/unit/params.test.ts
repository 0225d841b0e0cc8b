import assert from 'node:assert/strict';
import { test } from 'node:test';
import { param, parseAssignments, resolveParams } from '../../pipeline/sdk/params';

const specs = {
  seed: param.int(42, { min: 0 }),
  rate: param.number(0.1),
  name: param.string('iris'),
  fast: param.boolean(false),
  trainer: param.enum(['rf', 'lr'], 'rf'),
  data: param.path('data.csv'),
};
const resolve = (given: Record<string, string>) =>
  resolveParams('demo', specs, given, (v, isDefault) => `${isDefault ? '/pipe' : '/cwd'}/${v}`);

test('defaults fill in, values parse to their types, paths resolve by origin', () => {
  assert.deepEqual(resolve({}), { seed: 42, rate: 0.1, name: 'iris', fast: false, trainer: 'rf', data: '/pipe/data.csv' });
  assert.deepEqual(resolve({ seed: '7', rate: '1e-3', fast: 'true', trainer: 'lr', data: 'x.csv', name: '' }), {
    seed: 7,
    rate: 0.001,
    name: '',
    fast: true,
    trainer: 'lr',
    data: '/cwd/x.csv',
  });
});

test('every wrong value names the param and what it expects', () => {
  const cases: [Record<string, string>, RegExp][] = [
    [{ seeds: '1' }, /unknown param 'seeds' for pipeline demo \(known: seed, rate, name, fast, trainer, data\)/],
    [{ seed: '1.5' }, /param 'seed' expects an integer, got '1.5'/],
    [{ seed: '-1' }, /param 'seed' expects an integer >= 0, got '-1'/],
    [{ seed: '' }, /param 'seed' expects an integer, got ''/],
    [{ rate: 'NaN' }, /param 'rate' expects a number, got 'NaN'/],
    [{ rate: 'Infinity' }, /param 'rate' expects a number/],
    [{ fast: 'yes' }, /param 'fast' expects true or false, got 'yes'/],
    [{ trainer: 'svm' }, /param 'trainer' expects one of rf, lr, got 'svm'/],
    [{ data: ' ' }, /param 'data' expects a file path/],
  ];
  for (const [given, message] of cases) assert.throws(() => resolve(given), message);
});

test('key=value pairs', () => {
  assert.deepEqual(parseAssignments(['a=1', 'b=x=y', 'c=']), { a: '1', b: 'x=y', c: '' });
  assert.throws(() => parseAssignments(['novalue']), /expects the form key=value/);
  assert.throws(() => parseAssignments(['=1']), /expects the form key=value/);
});
