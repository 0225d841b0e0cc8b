import type { RunEvent, RunRecord, ServerEvent, StartRunRequest, StartRunResponse } from '../../common/contract';
import { errors } from '../../common/errors';
import type { Disposable, Event } from '../emitter';

/** What following a run needs from the server: the ApiClient. */
export interface RunApi {
  startRun(req: StartRunRequest): Promise<StartRunResponse>;
  run(id: string): Promise<RunRecord>;
  cancelRun(id: string): Promise<unknown>;
  url(path: string): string;
}

/** What it needs from the event stream: the EventStream. */
export interface RunEvents {
  onEvent: Event<ServerEvent>;
  onConnected: Event<boolean>;
  readonly connected: boolean;
}

export interface FollowOptions {
  /** Each event of this run, in order (those before startRun returned included). */
  onEvent?(event: RunEvent): void;
  onStarted?(runId: string): void;
  /** Aborting it cancels the run; the run still ends (as cancelled) before the promise resolves. */
  signal?: AbortSignal;
  /** Poll interval while the event stream is down (and, ten times slower, while it is up). */
  pollMs?: number;
  /** How long the server may stay unreachable before following gives up. */
  unreachableMs?: number;
  /** After a cancel, how long to wait for the run to end before returning its record as it is. */
  cancelGraceMs?: number;
}

const FINISHED = new Set<RunRecord['status']>(['succeeded', 'failed', 'rejected', 'cancelled']);

/**
 * Starts a run and resolves with its final record. It subscribes to the event stream before the
 * run starts (a fast run's events are not missed), ends on `run.finished`, and polls the run's
 * record while the stream is down, on every reconnection and, slowly, even while it is up, so a
 * lost event cannot leave it waiting. It always settles: on the record, or with an error when the
 * server stays unreachable, or after a cancel's grace period.
 */
export function runToEnd(api: RunApi, events: RunEvents, request: StartRunRequest, o: FollowOptions = {}): Promise<RunRecord> {
  const pollMs = o.pollMs ?? 1000;
  const subscriptions: Disposable[] = [];
  let timer: NodeJS.Timeout | undefined;
  let graceTimer: NodeJS.Timeout | undefined;
  const early: RunEvent[] = [];
  let runId: string | null = null;
  let lastReached = Date.now();
  let ticks = 0;
  let finishedSeen = false;

  return new Promise<RunRecord>((resolve, reject) => {
    let settled = false;
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearInterval(timer);
      clearTimeout(graceTimer);
      subscriptions.forEach((s) => s.dispose());
      outcome();
    };
    const fetchRecord = async (final: boolean): Promise<void> => {
      if (!runId || settled) return;
      try {
        const record = await api.run(runId);
        lastReached = Date.now();
        if (final || FINISHED.has(record.status)) settle(() => resolve(record));
      } catch (err) {
        if (Date.now() - lastReached > (o.unreachableMs ?? 30_000)) settle(() => reject(errors.serverUnreachable(api.url(''))));
        else if (final) settle(() => reject(err));
      }
    };
    const onRunEvent = (e: RunEvent) => {
      o.onEvent?.(e);
      if (e.type !== 'run.finished') return;
      finishedSeen = true; // should the record lag behind the event, the timer reads it each tick
      void fetchRecord(false);
    };
    const cancel = () => {
      if (!runId || settled) return;
      void api.cancelRun(runId).catch(() => fetchRecord(false)); // not running here (any more): read how it ended
      graceTimer = setTimeout(() => void fetchRecord(true), o.cancelGraceMs ?? 15_000);
    };

    subscriptions.push(
      events.onEvent((e) => {
        if (e.type !== 'run') return;
        if (runId === null) early.push(e.event);
        else if (e.event.runId === runId) onRunEvent(e.event);
      }),
      events.onConnected((up) => up && void fetchRecord(false)),
    );
    api.startRun(request).then(
      (started) => {
        runId = started.runId;
        o.onStarted?.(runId);
        for (const e of early.splice(0)) if (e.runId === runId) onRunEvent(e);
        timer = setInterval(() => {
          if (!events.connected || finishedSeen || ++ticks % 10 === 0) void fetchRecord(false);
        }, pollMs);
        if (o.signal?.aborted) cancel();
        o.signal?.addEventListener('abort', cancel, { once: true });
        subscriptions.push({ dispose: () => o.signal?.removeEventListener('abort', cancel) });
      },
      (err: unknown) => settle(() => reject(err)),
    );
  });
}
