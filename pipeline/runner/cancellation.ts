import fs from 'node:fs';
import { errors } from '../../common/errors';
import { readCancelRequest } from '../../common/registry/runs';

// How a run learns that it must stop. A signal handler only runs when the event loop turns, and a
// CPU-bound step (training) does not let it turn: so whoever cancels a run (spawn.ts: the CLI, the
// server's cancel route, the extension through it) first writes a cancel file, then sends SIGTERM,
// then SIGKILL after a grace period. `check()` is synchronous and cheap enough to call on every
// iteration of a training loop: it looks at the cancel file and at the parent process at most every
// CHECK_EVERY_MS. A runner whose parent died (its event pipe's reader is gone) cancels itself.

const CHECK_EVERY_MS = 100;

export type CancelSignal = 'SIGINT' | 'SIGTERM';

export class Cancellation {
  private readonly controller = new AbortController();
  private why: string | null = null;
  private by: CancelSignal = 'SIGTERM';
  private lastLook = 0;
  private poller: NodeJS.Timeout | null = null;

  constructor(
    /** Written by the process that cancels the run; null when nobody started us through spawn.ts. */
    private readonly cancelFile: string | null,
    /** The process that started us, or null to not watch it. */
    private readonly parentPid: number | null = process.ppid,
  ) {}

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get requested(): boolean {
    return this.why !== null;
  }

  get reason(): string {
    return this.why ?? 'not cancelled';
  }

  /** The signal the cancellation counts as (for the exit code): SIGINT for Ctrl-C, else SIGTERM. */
  get signalName(): CancelSignal {
    return this.by;
  }

  cancel(reason: string, by: CancelSignal = 'SIGTERM'): void {
    if (this.why !== null) return;
    this.why = reason;
    this.by = by;
    this.stopWatching();
    this.controller.abort(errors.cancelled(reason));
  }

  /** True once the run must stop; looks at the cancel file and the parent at most every 100 ms. */
  check(): boolean {
    if (this.why !== null) return true;
    const now = performance.now();
    if (now - this.lastLook < CHECK_EVERY_MS) return false;
    this.lastLook = now;
    if (this.cancelFile !== null && fs.existsSync(this.cancelFile)) {
      const request = readCancelRequest(this.cancelFile);
      this.cancel(request.reason, request.signal);
    } else if (this.parentPid !== null && !parentAlive(this.parentPid)) {
      this.cancel(`its parent process ${this.parentPid} exited`);
    }
    return this.why !== null;
  }

  /** For steps: throws the CANCELLED error once the run must stop. */
  throwIfCancelled(): void {
    if (this.check()) throw errors.cancelled(this.reason);
  }

  /** Also look while the loop is free (between steps, during command steps), not only when a step asks. */
  watch(everyMs = 250): void {
    this.poller = setInterval(() => this.check(), everyMs);
    this.poller.unref();
  }

  stopWatching(): void {
    if (this.poller !== null) clearInterval(this.poller);
    this.poller = null;
  }
}

/**
 * Whether the process that started us still runs: an orphan is adopted by init or a subreaper, and
 * `process.ppid` reads the current parent each time (a probe of the old pid could hit a reused one).
 */
function parentAlive(pid: number): boolean {
  return process.ppid === pid;
}
