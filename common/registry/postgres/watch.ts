import pg from 'pg';
import type { PgDb } from './db';
import { CHANGE_CHANNEL } from './migrations';

const FIRST_BACKOFF_MS = 250;
const MAX_BACKOFF_MS = 10_000;
/**
 * A connection can die silently (a network partition sends no FIN, and TCP keepalive takes minutes):
 * while listening, a trivial query on the listener every `everyMs` must answer within `timeoutMs`,
 * or the connection counts as lost (poll, reconnect). Tests shorten it.
 */
const HEARTBEAT = { everyMs: 10_000, timeoutMs: 5000 };

/**
 * Calls `onChange` after every committed registry change, at least once: a dedicated connection
 * LISTENs on the channel the change trigger notifies (migrations.ts). While that connection is down
 * (PostgreSQL restarting, a failover, the backend terminated) the change counter is polled every
 * `pollMs` instead, and the connection is re-made with a growing backoff; once it is back, a counter
 * that moved meanwhile is reported too. Resolves the returned `stop` once the listener has ended.
 */
export function watchChanges(db: PgDb, onChange: () => void, pollMs: number, heartbeatOpts = HEARTBEAT): () => Promise<void> {
  let stopped = false;
  let listener: pg.Client | null = null;
  let pollTimer: NodeJS.Timeout | null = null;
  let reconnectTimer: NodeJS.Timeout | null = null;
  let heartbeat: NodeJS.Timeout | null = null;
  let backoff = FIRST_BACKOFF_MS;
  let seen: string | null = null; // the counter as last read
  let polling = false;
  const gone = new WeakSet<pg.Client>(); // clients already handled as lost ('error' and 'end' both come)

  const readCounter = async () => (await db.query<{ n: string }>(`SELECT n FROM registry_changes WHERE id = 1`))[0].n;

  /**
   * Reads the counter; a value other than the last one read means changes nobody reported. A check
   * asked for while one is in flight runs after it (that one may have read before the listener was up).
   */
  let again = false;
  const check = async (): Promise<void> => {
    if (stopped) return;
    if (polling) return void (again = true); // a poll waiting on a down server must not pile up
    polling = true;
    try {
      const n = await readCounter();
      if (seen !== null && n !== seen && !stopped) onChange();
      seen = n;
    } catch {
      /* still unreachable: the next poll tries again */
    } finally {
      polling = false;
    }
    if (again) {
      again = false;
      await check();
    }
  };

  const startPolling = () => {
    pollTimer ??= setInterval(() => void check(), pollMs);
  };
  const stopPolling = () => {
    if (pollTimer) clearInterval(pollTimer);
    pollTimer = null;
  };

  const lost = (client: pg.Client) => {
    if (stopped || gone.has(client)) return;
    gone.add(client);
    void client.end().catch(() => {});
    if (listener !== client) return; // an older connection, already replaced
    listener = null;
    stopHeartbeat();
    startPolling();
    if (reconnectTimer) return;
    reconnectTimer = setTimeout(() => {
      reconnectTimer = null;
      void connect();
    }, backoff);
    backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
  };

  const stopHeartbeat = () => {
    if (heartbeat) clearInterval(heartbeat);
    heartbeat = null;
  };
  const startHeartbeat = (client: pg.Client) => {
    heartbeat = setInterval(() => {
      let timer: NodeJS.Timeout | undefined;
      const answered = client.query('SELECT 1').then(
        () => true,
        () => false,
      );
      const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), heartbeatOpts.timeoutMs)));
      void Promise.race([answered, late]).then((ok) => {
        clearTimeout(timer);
        if (!ok) lost(client);
      });
    }, heartbeatOpts.everyMs);
  };

  const connect = async () => {
    if (stopped) return;
    const client = new pg.Client({
      connectionString: db.url,
      application_name: 'mlops-listener',
      connectionTimeoutMillis: 5000,
      keepAlive: true,
    });
    // Without these, a dropped connection is an unhandled 'error' event: the process would die.
    client.on('error', () => lost(client));
    client.on('end', () => lost(client));
    client.on('notification', (m) => {
      if (m.channel === CHANGE_CHANNEL && !stopped) onChange();
    });
    try {
      listener = client;
      await client.connect();
      await client.query(`LISTEN ${CHANGE_CHANNEL}`);
      if (stopped) return void (await client.end().catch(() => {}));
      backoff = FIRST_BACKOFF_MS;
      stopPolling();
      startHeartbeat(client);
      await check(); // what was committed while nobody listened
    } catch {
      lost(client);
    }
  };

  void check(); // the baseline
  startPolling(); // until the listener is up
  void connect();

  return async () => {
    stopped = true;
    stopPolling();
    stopHeartbeat();
    if (reconnectTimer) clearTimeout(reconnectTimer);
    const client = listener;
    listener = null;
    await client?.end().catch(() => {});
  };
}
