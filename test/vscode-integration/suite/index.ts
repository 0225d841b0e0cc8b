import Mocha from 'mocha';
import { registerExtensionSuite } from './extension.test';

/** Entry point VS Code calls (extensionTestsPath): runs the mocha suite inside the extension host. */
export function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'tdd', timeout: 60_000, color: true });
  registerExtensionSuite(mocha);
  return new Promise((resolve, reject) => mocha.run((failures) => (failures ? reject(new Error(`${failures} tests failed`)) : resolve())));
}
