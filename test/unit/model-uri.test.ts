import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isMlopsError } from '../../common/errors';
import { modelUri, parseModelRef } from '../../common/model-uri';

test("MLflow's model URIs and the short forms name the same thing", () => {
  assert.deepEqual(parseModelRef('models:/iris/3'), { name: 'iris', selector: 3 });
  assert.deepEqual(parseModelRef('models:/iris@production'), { name: 'iris', selector: 'production' });
  assert.deepEqual(parseModelRef('models:/iris/latest'), { name: 'iris', selector: 'latest' });
  assert.deepEqual(parseModelRef('iris/3'), parseModelRef('models:/iris/3'));
  assert.deepEqual(parseModelRef('iris@production'), parseModelRef('models:/iris@production'));
  assert.deepEqual(parseModelRef('iris'), { name: 'iris', selector: null });
});

test('modelUri writes what parseModelRef reads (what "Copy Model URI" copies)', () => {
  assert.equal(modelUri('iris', 3), 'models:/iris/3');
  assert.equal(modelUri('iris', 'production'), 'models:/iris@production');
  for (const [name, selector] of [
    ['iris', 12],
    ['my-model.v2', 'staging'],
  ] as const) {
    assert.deepEqual(parseModelRef(modelUri(name, selector)), { name, selector });
  }
});

test('a bad URI gets a specific BAD_MODEL_URI error naming the problem and the accepted forms', () => {
  const cases: [string, RegExp][] = [
    ['models:/iris', /name a version or an alias/],
    ['models:/', /name a version or an alias/],
    ['models:/iris/3/extra', /one name, then \/version or @alias/],
    ['models:/iris@prod@x', /one name, then/],
    ['models:/iris/0', /invalid version '0'/],
    ['models:/iris/Production', /'Production' is not a version number; for an alias write models:\/iris@production/],
    ['models:/../x/1', /one name, then/],
    ['models:/../1', /invalid model name '\.\.'/],
    ['models:/iris@../x', /one name, then/],
    ['models:/iris@3', /an alias is not a number; for version 3 write models:\/iris\/3/],
    ['runs:/abc/model', /the scheme must be 'models:\/'/],
    ['models://iris/3', /one name, then/],
  ];
  for (const [uri, reason] of cases) {
    assert.throws(
      () => parseModelRef(uri),
      (err: unknown) => {
        assert.ok(isMlopsError(err), `${uri}: ${String(err)}`);
        assert.equal(err.code, 'BAD_MODEL_URI', uri);
        assert.match(err.message, reason, uri);
        assert.match(err.message, /expected models:\/<name>\/<version>, models:\/<name>@<alias>/);
        return true;
      },
    );
  }
});
