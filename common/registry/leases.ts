import { errors } from '../errors';
import { runnerHost } from './runs';
import type { LeaseApi } from './store';

/** The holder name of this process: its host and pid, as runs record them. */
export function leaseHolder(env: NodeJS.ProcessEnv = process.env): string {
  return `${runnerHost(env)}:${process.pid}`;
}

/** The lease a runner holds while its run is running: runs.recoverInterrupted reads it for runs on other hosts. */
export function runLeaseName(runId: string): string {
  return `run:${runId}`;
}

/**
 * How long a run's lease lasts unrenewed (MLOPS_RUN_LEASE_SEC, default 30 s): a runner killed on
 * another host is judged gone that long after its last renewal. Runners and servers read the same setting.
 */
export function runLeaseMs(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.MLOPS_RUN_LEASE_SEC?.trim();
  if (raw === undefined || raw === '') return 30_000;
  const sec = Number(raw);
  if (!Number.isFinite(sec) || sec < 1) throw errors.badOption('MLOPS_RUN_LEASE_SEC', 'a number of seconds, at least 1', raw);
  return sec * 1000;
}

/**
 * A lease this process holds and renews (every third of its time to live) until released. A renewal
 * the database refuses (it lapsed and another holder took it) ends the renewals: the lease is lost,
 * and whoever judges by it treats this holder as gone. One that fails (the database is away) is tried
 * again at the next tick, and the lease may lapse meanwhile.
 */
export class HeldLease {
  private timer: NodeJS.Timeout | null = null;

  private constructor(
    private readonly leases: LeaseApi,
    readonly name: string,
    readonly holder: string,
    private readonly ttlMs: number,
  ) {}

  /** Takes `name` and starts renewing it; null when another holder's lease is live. */
  static async take(leases: LeaseApi, name: string, holder: string, ttlMs: number): Promise<HeldLease | null> {
    if (!(await leases.acquire(name, holder, ttlMs))) return null;
    const held = new HeldLease(leases, name, holder, ttlMs);
    held.schedule();
    return held;
  }

  private schedule(): void {
    this.timer = setTimeout(() => void this.renew(), Math.max(10, Math.floor(this.ttlMs / 3)));
    this.timer.unref(); // a lease never keeps a process alive
  }

  private async renew(): Promise<void> {
    const kept = await this.leases.acquire(this.name, this.holder, this.ttlMs).catch(() => true);
    if (this.timer === null) return; // released while renewing
    if (kept) this.schedule();
    else this.timer = null;
  }

  /** Stops renewing and gives the lease up. */
  async release(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.leases.release(this.name, this.holder);
  }
}
