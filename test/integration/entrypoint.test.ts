import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { ENTRY, NODE24, CACHE as CODE_SERVER_CACHE, installed as codeServerInstalled } from '../e2e/code-server';
import { ROOT, needs, tempDataDir } from '../helpers/cli';
import { checkPasswordLogin } from '../helpers/devcontainer';
import { SAMPLE, trainIris, waitFor } from '../helpers/server';
import { freePort } from '../helpers/net';

// The container's entry point run outside a container, as users also run it, with Debian's
// Prometheus scraping the server.
const ENTRYPOINT = path.join(ROOT, '.devcontainer', 'entrypoint.sh');
const prometheus = spawnSync('prometheus', ['--version']).status === 0;

async function promQuery(port: number, query: string): Promise<number | undefined> {
  const res = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(query)}`).catch(() => null);
  if (!res?.ok) return undefined;
  const body = (await res.json()) as { data: { result: { value: [number, string] }[] } };
  const v = body.data.result[0]?.value[1];
  return v === undefined ? undefined : Number(v);
}

/** Nothing listens on the ports any more, shortly after the entry point exited. */
async function assertClosed(...ports: number[]): Promise<void> {
  await new Promise((r) => setTimeout(r, 300));
  for (const p of ports) {
    assert.equal(
      await fetch(`http://127.0.0.1:${p}/`).then(
        () => 'open',
        () => 'closed',
      ),
      'closed',
      `port ${p} closed`,
    );
  }
}

describe('.devcontainer/entrypoint.sh outside a container', () => {
  test('MODE=train runs the pipeline once and exits with its code; an unknown MODE exits 2', () => {
    const dir = tempDataDir();
    const ok = spawnSync('bash', [ENTRYPOINT], { env: { ...process.env, MODE: 'train', MLOPS_DATA_DIR: dir }, encoding: 'utf8' });
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /registered iris version 1/);
    const rejected = spawnSync('bash', [ENTRYPOINT, '--param', 'minAccuracy=1'], {
      env: { ...process.env, MODE: 'train', MLOPS_DATA_DIR: dir },
      encoding: 'utf8',
    });
    assert.equal(rejected.status, 3, 'rejected by the gate (EXIT.rejected)');
    const bad = spawnSync('bash', [ENTRYPOINT], { env: { ...process.env, MODE: 'jupyter', MLOPS_DATA_DIR: dir }, encoding: 'utf8' });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /unknown MODE 'jupyter'/);
  });

  test('MODE=web: no default credentials beyond loopback; a password, its file or its hash passes that check', () => {
    const NO_VSIX = '/nonexistent/mlops.vsix';
    const web = (env: NodeJS.ProcessEnv) =>
      spawnSync('bash', [ENTRYPOINT], { env: { ...process.env, MODE: 'web', MLOPS_VSIX: NO_VSIX, ...env }, encoding: 'utf8' });
    const anyAddress = { MLOPS_WEB_HOST: '0.0.0.0' };
    const open = web(anyAddress);
    assert.equal(open.status, 2);
    assert.match(open.stderr, /MODE=web on 0\.0\.0\.0 needs MLOPS_WEB_PASSWORD or MLOPS_WEB_PASSWORD_FILE \(there is no default password/);
    // code-server's own variable does not count: the entry point reads only its MLOPS_WEB_* names.
    assert.equal(web({ ...anyAddress, PASSWORD: 'web-secret' }).status, 2);
    const missingFile = web({ ...anyAddress, MLOPS_WEB_PASSWORD_FILE: '/nonexistent/password' });
    assert.equal(missingFile.status, 2);
    assert.match(missingFile.stderr, /MLOPS_WEB_PASSWORD_FILE \/nonexistent\/password is not readable/);
    const dir = tempDataDir();
    const [passwordFile, emptyFile] = [path.join(dir, 'password'), path.join(dir, 'empty')];
    fs.writeFileSync(passwordFile, 'web-secret\n', { mode: 0o600 });
    fs.writeFileSync(emptyFile, '\n', { mode: 0o600 });
    const empty = web({ ...anyAddress, MLOPS_WEB_PASSWORD_FILE: emptyFile });
    assert.equal(empty.status, 2);
    assert.match(empty.stderr, /MLOPS_WEB_PASSWORD_FILE .*empty is empty/);
    // Past the auth check, each run stops at the missing package (before code-server starts).
    const hashed = '$argon2i$v=19$m=4096,t=3,p=1$x$y';
    const passes = [{ MLOPS_WEB_PASSWORD: 'web-secret' }, { MLOPS_WEB_PASSWORD_FILE: passwordFile }, { MLOPS_WEB_HASHED_PASSWORD: hashed }];
    for (const env of [...passes.map((p) => ({ ...anyAddress, ...p })), {}, { MLOPS_WEB_HOST: '127.0.0.2' }]) {
      const r = web(env);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, /no extension package at \/nonexistent\/mlops\.vsix/);
    }
  });

  test(
    'MODE=api: the server serves, Prometheus scrapes it (with its auth), SIGTERM stops both',
    { skip: needs(prometheus, "Debian's prometheus (apt-get install prometheus)"), timeout: 90_000 },
    async () => {
      const dir = tempDataDir();
      trainIris(dir);
      const [port, promPort, absent] = [await freePort(), await freePort(), await freePort()];
      const child = spawn('bash', [ENTRYPOINT], {
        env: {
          ...process.env,
          MODE: 'api',
          MLOPS_DATA_DIR: dir,
          MLOPS_PORT: String(port),
          PROMETHEUS_PORT: String(promPort),
          PROMETHEUS_SCRAPE_INTERVAL: '1s',
          // The multi-target form (one target per replica): this server, and a replica that is down.
          MLOPS_SCRAPE_TARGETS: `127.0.0.1:${port}, 127.0.0.1:${absent}`,
          METRICS_USERNAME: 'prom',
          METRICS_PASSWORD: 'scrape-secret',
          MLOPS_REQUEST_LOG: 'false',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (out += d));
      const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
      try {
        await waitFor(
          'the server',
          async () => ((await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => null))?.ok ? true : undefined),
          20_000,
        );
        const predict = () =>
          fetch(`http://127.0.0.1:${port}/predict`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(SAMPLE),
          });
        assert.deepEqual(await (await predict()).json(), [{ variety: 'Virginica' }, { variety: 'Versicolor' }]);
        const up = (instance: number) => promQuery(promPort, `up{job="mlops",instance="127.0.0.1:${instance}"}`);
        assert.equal(await waitFor('up == 1', async () => ((await up(port)) === 1 ? 1 : undefined), 30_000), 1);
        assert.equal(await waitFor('the absent replica scraped', async () => ((await up(absent)) === 0 ? 0 : undefined), 30_000), 0);
        const before = await waitFor('a prediction counter', () => promQuery(promPort, 'sum(mlops_predictions_total)'), 30_000);
        for (let i = 0; i < 5; i++) await predict();
        const after = await waitFor(
          'the counter to rise',
          async () => {
            const v = await promQuery(promPort, 'sum(mlops_predictions_total)');
            return v !== undefined && v >= before + 10 ? v : undefined;
          },
          30_000,
        );
        assert.ok(after >= before + 10);
        // The alert rules (.devcontainer/mlops-alerts.rules.yml) are loaded beside the scrape config.
        const rules = (await (await fetch(`http://127.0.0.1:${promPort}/api/v1/rules`)).json()) as {
          data: { groups: { rules: { name: string; health: string }[] }[] };
        };
        const loaded = rules.data.groups.flatMap((g) => g.rules.map((r) => r.name));
        assert.deepEqual(loaded, ['drift_psi', 'drift_ks', 'quality_accuracy', 'error_rate', 'latency_p95']);
      } finally {
        child.kill('SIGTERM');
      }
      assert.equal(await exited, 0, out);
      await assertClosed(port, promPort);
    },
  );
});

/** Command lines of the processes whose environment holds `entry` (NAME=value): what outlives a stop, or holds a secret. */
function processesWith(entry: string): string[] {
  const found: string[] = [];
  for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      if (fs.readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(entry))
        found.push(fs.readFileSync(`/proc/${pid}/cmdline`, 'latin1').replace(/\0/g, ' ').trim());
    } catch {
      // exited meanwhile
    }
  }
  return found;
}

describe(
  '.devcontainer/entrypoint.sh MODE=web with the real code-server (the e2e cache)',
  { skip: needs(codeServerInstalled(), `code-server in ${CODE_SERVER_CACHE} (node --import tsx test/e2e/install-code-server.ts)`) },
  () => {
    const home = tempDataDir('mlops-web-');
    const vsix = path.join(home, 'mlops.vsix');
    // A `code-server` command on the PATH, as in the image: the cached install run with its Node 24.
    const bin = path.join(home, 'bin');
    // As the image's MLOPS_WEB_EXTENSIONS_DIR: filled by the first start (MLOPS_VSIX), reused by the next.
    const extensions = path.join(home, 'extensions');
    before(() => {
      const vsce = path.join(ROOT, 'node_modules', '@vscode', 'vsce', 'vsce');
      const pack = spawnSync(process.execPath, [vsce, 'package', '--no-dependencies', '--out', vsix], { cwd: ROOT, encoding: 'utf8' });
      assert.equal(pack.status, 0, pack.stdout + pack.stderr);
      fs.mkdirSync(bin);
      fs.writeFileSync(path.join(bin, 'code-server'), `#!/bin/sh\nexec '${NODE24}' '${ENTRY}' "$@"\n`, { mode: 0o755 });
    });

    /** Starts the entry point in MODE=web and waits for code-server; stop() sends SIGTERM and checks a clean end. */
    async function startWeb(extra: NodeJS.ProcessEnv) {
      const [port, promPort] = [await freePort(), await freePort()];
      const mark = `MLOPS_WEB_TEST_RUN=${port}`;
      const env = {
        ...process.env,
        PATH: `${bin}:${process.env.PATH}`,
        XDG_DATA_HOME: path.join(home, 'data'),
        XDG_CONFIG_HOME: path.join(home, 'config'),
        MODE: 'web',
        MLOPS_DATA_DIR: tempDataDir(),
        MLOPS_WEB_PORT: String(port),
        MLOPS_WEB_EXTENSIONS_DIR: extensions,
        PROMETHEUS_PORT: String(promPort),
        [mark.split('=')[0]]: String(port),
        ...extra,
      };
      const child = spawn('bash', [ENTRYPOINT], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (out += d));
      const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
      const url = `http://127.0.0.1:${port}`;
      await waitFor(
        'code-server',
        async () => {
          if (child.exitCode !== null) throw new Error(`the entry point exited (${child.exitCode}): ${out}`);
          return (await fetch(`${url}/healthz`).catch(() => null))?.ok ? true : undefined;
        },
        60_000,
      ).catch((e: unknown) => {
        child.kill('SIGTERM');
        throw e;
      });
      return {
        url,
        out: () => out,
        mark,
        stop: async () => {
          const running = processesWith(mark);
          assert.ok(running.some((c) => c.includes('prometheus')) && running.some((c) => c.includes('--bind-addr')), running.join('\n'));
          child.kill('SIGTERM');
          assert.equal(await exited, 0, out);
          await assertClosed(port, promPort);
          assert.deepEqual(processesWith(mark), [], 'SIGTERM leaves no process behind');
        },
      };
    }

    test('with nothing installed and no MLOPS_VSIX, it says what to set and serves nothing', () => {
      const r = spawnSync('bash', [ENTRYPOINT], {
        env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, MODE: 'web', MLOPS_WEB_EXTENSIONS_DIR: path.join(home, 'empty') },
        encoding: 'utf8',
      });
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, /the MLOps extension is not installed in code-server \(.*empty\); set MLOPS_VSIX to its package/);
    });

    test(
      'with a password file: installs MLOPS_VSIX, serves behind the login, only code-server holds the secret',
      { timeout: 120_000 },
      async () => {
        const secret = path.join(home, 'web-password');
        fs.writeFileSync(secret, 'web-secret\n', { mode: 0o600 });
        const web = await startWeb({ MLOPS_VSIX: vsix, MLOPS_WEB_PASSWORD_FILE: secret });
        try {
          assert.match(
            web.out(),
            /MODE=web, VS Code \(mlops-template\.mlops-template@\d+\.\d+\.\d+\) on http:\/\/127\.0\.0\.1:\d+ behind its password login/,
          );
          await checkPasswordLogin(web.url, 'web-secret');
          // The file's content without its newline is the password; Prometheus, started beside it, never sees it.
          const holders = processesWith('PASSWORD=web-secret');
          assert.equal(holders.length, 1, holders.join('\n'));
          assert.match(holders[0], /entry\.js --auth password --bind-addr 127\.0\.0\.1:\d+ --extensions-dir /);
        } finally {
          await web.stop();
        }
      },
    );

    test(
      'without a password: the installed extension, loopback only with no login, and a log line that says so',
      { timeout: 120_000 },
      async () => {
        const web = await startWeb({});
        try {
          assert.match(
            web.out(),
            new RegExp(
              String.raw`MODE=web WITHOUT a password \(set MLOPS_WEB_PASSWORD or MLOPS_WEB_PASSWORD_FILE\): no login, ` +
                String.raw`so VS Code \(mlops-template\.mlops-template@[\d.]+\) is served on loopback only, http://127\.0\.0\.1:\d+`,
            ),
          );
          assert.doesNotMatch(web.out(), /successfully installed/);
          // `/` sends the browser to the project folder (code-server's redirect), which is the workbench: no login page.
          const root = await fetch(`${web.url}/`, { redirect: 'manual' });
          assert.match(root.headers.get('location') ?? '', /^\.\/\?folder=/);
          const workbench = await fetch(new URL(root.headers.get('location')!, `${web.url}/`), { redirect: 'manual' });
          assert.equal(workbench.status, 200);
          assert.match(await workbench.text(), /workbench/);
        } finally {
          await web.stop();
        }
      },
    );
  },
);

interface ComposeService {
  build: { dockerfile: string };
  profiles?: string[];
  environment: Record<string, string>;
  ports: string[];
  secrets?: string[];
}

/** .devcontainer/compose.yaml as compose reads it (YAML merge keys resolved), through Debian's PyYAML. */
function readCompose(): { services: Record<string, ComposeService>; secrets: Record<string, { file: string }> } | undefined {
  const code = 'import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))';
  const r = spawnSync('/usr/bin/python3', ['-c', code, path.join(ROOT, '.devcontainer', 'compose.yaml')], { encoding: 'utf8' });
  return r.status === 0 ? JSON.parse(r.stdout) : undefined;
}

test(
  "compose's web profile: MODE=web published on the host's loopback, and its environment starts only with the password secret",
  { skip: needs(readCompose() !== undefined, "Debian's python3-yaml (apt-get install python3-yaml)") },
  () => {
    const compose = readCompose()!;
    const web = compose.services['mlops-web'];
    assert.deepEqual(web.profiles, ['web']);
    assert.equal(web.build.dockerfile, compose.services['mlops-api'].build.dockerfile, 'the same image as the api service');
    assert.deepEqual(web.ports, ['127.0.0.1:8080:8080']);
    assert.equal(web.environment.MODE, 'web');
    assert.deepEqual(web.secrets, ['web-password']);
    assert.equal(web.environment.MLOPS_WEB_PASSWORD_FILE, '/run/secrets/web-password', 'where compose mounts the secret');
    assert.equal(compose.secrets['web-password'].file, './web-password');
    assert.match(
      fs.readFileSync(path.join(ROOT, '.gitignore'), 'utf8'),
      /^\.devcontainer\/web-password$/m,
      'the password stays out of git',
    );

    // The service's own environment through the entry point (a password file in place of compose's secret).
    const run = (env: Record<string, string>) =>
      spawnSync('bash', [ENTRYPOINT], { env: { ...process.env, MLOPS_VSIX: '/nonexistent/mlops.vsix', ...env }, encoding: 'utf8' });
    const { MLOPS_WEB_PASSWORD_FILE: _secret, ...withoutSecret } = web.environment;
    const open = run(withoutSecret);
    assert.equal(open.status, 2);
    assert.match(open.stderr, /MODE=web on 0\.0\.0\.0 needs MLOPS_WEB_PASSWORD or MLOPS_WEB_PASSWORD_FILE/);
    const secret = path.join(tempDataDir(), 'web-password');
    fs.writeFileSync(secret, 'web-secret', { mode: 0o600 });
    const withSecret = run({ ...web.environment, MLOPS_WEB_PASSWORD_FILE: secret });
    assert.equal(withSecret.status, 2);
    assert.match(withSecret.stderr, /no extension package at \/nonexistent\/mlops\.vsix/, 'past the password check');
  },
);
