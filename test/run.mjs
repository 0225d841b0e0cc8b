// `npm test`: every *.test.ts under test/unit, test/integration and test/e2e, on Node's own test
// runner with tsx for TypeScript (Node 20's --test has no globs). `node test/run.mjs unit` runs one suite.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const root = import.meta.dirname;
const suites = process.argv.length > 2 ? process.argv.slice(2) : ['unit', 'integration', 'e2e'];
const files = suites.flatMap((suite) => {
  const dir = path.join(root, suite);
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.test.ts'))
    .sort()
    .map((f) => path.join(dir, f));
});
if (files.length === 0) {
  console.error(`no test files in ${suites.join(', ')}`);
  process.exit(1);
}
const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', ...files], { stdio: 'inherit' });
process.exit(result.status ?? 1);
