// `node --import tsx test/e2e/install-code-server.ts`: puts code-server into the e2e cache (CI calls it).
import { CACHE, install, installed } from './code-server';

if (installed()) console.log(`code-server already in ${CACHE}`);
else {
  console.log(`installing code-server into ${CACHE}`);
  install();
}
