import type { Registry } from '../../common/registry/store';

/** What /readyz and the metrics say of the database. */
export interface DatabaseState {
  backend: Registry['backend'];
  reachable: boolean;
  /** When it last changed state (ISO time); null before the first answer. */
  since: string | null;
  /** The last error while unreachable, one line. */
  error: string | null;
}

/**
 * When the database is needed for readiness (MLOPS_READY_DATABASE): `once` (the default), a replica is
 * not ready until the database has answered once, and afterwards an outage is reported (/readyz body,
 * mlops_database_up 0) but does not make it unready: predictions are answered from the loaded model and
 * log rows queue, and failing readiness on every replica at once would turn a database blip into a full
 * outage behind the balancer. `always`: unready whenever this replica cannot reach the database, for
 * setups where one replica losing it (a partition) is likelier than the database going away for all.
 */
export type DatabaseReadiness = 'once' | 'always';

/** Pings the registry's database every `intervalMs` (with a timeout of half of it) and remembers whether it answers. */
export class DatabaseHealth {
  private state: DatabaseState;
  private everReached = false;
  private timer: NodeJS.Timeout | null = null;
  private pinging: Promise<void> | null = null;

  constructor(
    private readonly registry: Pick<Registry, 'backend' | 'ping'>,
    private readonly intervalMs: number,
    private readonly onChange: (state: DatabaseState) => void = () => {},
    private readonly readiness: DatabaseReadiness = 'once',
  ) {
    this.state = { backend: registry.backend, reachable: false, since: null, error: null };
  }

  /** Pings once now (awaited: the first answer decides readiness), then every intervalMs. */
  async start(): Promise<void> {
    await this.check();
    this.timer = setInterval(() => void this.check(), this.intervalMs);
    this.timer.unref();
  }

  stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    return this.pinging ?? Promise.resolve();
  }

  current(): DatabaseState {
    return { ...this.state };
  }

  /** Ready as far as the database goes: it has answered since the start (`once`), or answers now (`always`). */
  ready(): boolean {
    return this.readiness === 'always' ? this.state.reachable : this.everReached;
  }

  check(): Promise<void> {
    this.pinging ??= this.ping().finally(() => (this.pinging = null));
    return this.pinging;
  }

  private async ping(): Promise<void> {
    let reachable = true;
    let error: string | null = null;
    try {
      await this.registry.ping(Math.max(100, Math.floor(this.intervalMs / 2)));
    } catch (err) {
      reachable = false;
      error = ((err as Error).message ?? String(err)).split('\n')[0];
    }
    if (reachable) this.everReached = true;
    if (reachable !== this.state.reachable || this.state.since === null) {
      this.state = { backend: this.state.backend, reachable, since: new Date().toISOString(), error };
      this.onChange(this.current());
    } else if (!reachable) {
      this.state.error = error;
    }
  }
}
