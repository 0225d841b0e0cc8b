import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, test } from 'node:test';
import { ApiClient } from '../../extension/server/api-client';
import type { LogLevel } from '../../extension/server/log-lines';
import { ServerProcess, type LaunchSettings, type ServerState } from '../../extension/server/server-process';
import { mlops, ROOT, tempDataDir } from '../helpers/cli';
import { freePort } from '../helpers/net';
import { startTestServer } from '../helpers/server';
import { readApiToken } from '../../common/api-token';

/** The extension's ServerProcess outside VS Code: real dist/server.js children, a log that keeps its lines. */
async function harness(overrides: Partial<LaunchSettings> = {}) {
  const port = overrides.port ?? (await freePort());
  const launch: LaunchSettings = {
    ...{ host: '127.0.0.1', port, nodePath: process.execPath, dataDirectory: tempDataDir(), pipeline: '' },
    ...{ defaultAlias: 'production', model: '', projectDirectory: ROOT, ...overrides },
  };
  const lines: [LogLevel, string][] = [];
  const at = (level: LogLevel) => (text: string) => void lines.push([level, text]);
  const log = { trace: at('trace'), debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  const api = new ApiClient(
    () => `http://127.0.0.1:${port}`,
    () => readApiToken(launch.dataDirectory) ?? undefined,
  );
  const server = new ServerProcess(api, log, () => launch);
  const states: ServerState[] = [];
  server.onState((s) => states.push(s));
  return { server, api, lines, states, spawns: () => lines.filter(([, t]) => t.startsWith('starting ')).length };
}

const gone = (pid: number) => {
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
};

describe('the extension starts one server, whoever asks', () => {
  test('concurrent start() and ensure() calls share one start: one child, which the server reports', async () => {
    const h = await harness();
    try {
      await Promise.all([h.server.start(), h.server.ensure(), h.server.start(), h.server.ensure()]);
      assert.equal(h.spawns(), 1, JSON.stringify(h.lines));
      assert.deepEqual(h.states, ['starting', 'running']);
      const status = await h.api.status();
      assert.equal(status.pid, h.server.pid);
      await h.server.ensure(); // running: nothing to do
      assert.equal(h.spawns(), 1);
      // The server's pino lines arrive with their level, as text.
      assert.ok(
        h.lines.some(([level, text]) => level === 'info' && /listening/i.test(text)),
        JSON.stringify(h.lines),
      );
      assert.ok(!h.lines.some(([, text]) => text.startsWith('{')), 'no raw JSON in the channel');
    } finally {
      const pid = h.server.pid!;
      await h.server.stop();
      assert.ok(gone(pid), 'the child is gone after stop()');
      assert.equal(h.states.at(-1), 'stopped');
    }
  });

  test('with two models in the registry, mlops.model says which one the server serves', async () => {
    const dataDirectory = tempDataDir();
    for (const pipeline of [[], ['pipeline/examples/penguins/pipeline.ts']]) {
      const r = mlops(dataDirectory, ['train', '-q', ...pipeline]);
      assert.equal(r.code, 0, r.stderr);
    }
    const unsure = await harness({ dataDirectory });
    try {
      await unsure.server.start();
      const status = await unsure.api.status();
      assert.equal(status.serving, null);
      assert.match(status.lastError ?? '', /several models \(iris, penguins\)/);
    } finally {
      await unsure.server.stop();
    }
    const chosen = await harness({ dataDirectory, model: 'penguins' });
    try {
      await chosen.server.start();
      const { serving } = await chosen.api.status();
      assert.equal(`${serving?.model}/${serving?.version}`, 'penguins/1');
    } finally {
      await chosen.server.stop();
    }
  });

  test('a server already listening is used as it is, and not stopped', async () => {
    const running = await startTestServer(tempDataDir());
    try {
      const h = await harness({ port: Number(new URL(running.url).port) });
      await Promise.all([h.server.ensure(), h.server.start()]);
      assert.equal(h.spawns(), 0);
      assert.equal(h.server.state, 'external');
      await h.server.stop();
      assert.deepEqual(await (await fetch(`${running.url}/healthz`)).json(), { live: true }, 'the server it did not start keeps running');
    } finally {
      await running.close();
    }
  });

  test('a server that cannot start fails the start with a message and leaves no restart loop', async () => {
    const h = await harness({ nodePath: process.execPath, projectDirectory: tempDataDir('mlops-no-project-') });
    await assert.rejects(h.server.start(), /no server to start: .*dist\/server\.js is missing/);
    // The port is taken by something that is not an MLOps server: the child exits at once.
    const squatter = net.createServer((socket) => socket.destroy());
    await new Promise<void>((r) => squatter.listen(0, '127.0.0.1', r));
    try {
      const busy = await harness({ port: (squatter.address() as net.AddressInfo).port });
      await assert.rejects(busy.server.start(), /the server exited while starting \(code 1\)/);
      assert.equal(busy.spawns(), 1);
      await busy.server.stop(); // no restart loop left behind
      assert.equal(busy.server.state, 'stopped');
    } finally {
      squatter.close();
    }
  });
});
