/**
 * Runs an async task one at a time. A request while it runs is merged with every other request
 * made meanwhile into one more run after it, so a burst of triggers (a run's events, a registry
 * change, a reconnection, the end of Train) costs at most two runs, and results cannot arrive out
 * of order. The task handles its own errors.
 */
export class Coalescer {
  private running: Promise<void> | null = null;
  private queued: Promise<void> | null = null;

  constructor(private readonly task: () => Promise<void>) {}

  /** Resolves once a run that started after this call has finished. */
  request(): Promise<void> {
    if (this.queued) return this.queued;
    if (this.running) {
      this.queued = this.running.then(() => {
        this.queued = null;
        return this.start();
      });
      return this.queued;
    }
    return this.start();
  }

  private start(): Promise<void> {
    const run: Promise<void> = this.task()
      .catch(() => undefined)
      .finally(() => {
        if (this.running === run) this.running = null;
      });
    this.running = run;
    return run;
  }
}
