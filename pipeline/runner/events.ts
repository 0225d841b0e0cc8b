import fs from 'node:fs';
import type { RunEvent } from '../../common/contract';

// The progress channel. The runner writes each event as one JSON line:
//  - to file descriptor MLOPS_EVENTS_FD when set (the CLI and the server spawn the runner with a
//    pipe on fd 3 and read it line by line: see spawn.ts), so step output on stdout/stderr
//    cannot corrupt it;
//  - always to <run dir>/events.jsonl, the run's durable record, which anyone can tail.
// Writes are synchronous so that an event is out before the next step starts, even if the
// process is killed right after.

type Payload = RunEvent extends infer E ? (E extends RunEvent ? Omit<E, 'runId' | 'at'> : never) : never;

export class EventSink {
  private fd: number | null;
  private file: number | null = null;

  constructor(
    private readonly runId: string,
    env: NodeJS.ProcessEnv = process.env,
    /** Called once when the reader of MLOPS_EVENTS_FD is gone (the parent died). */
    private readonly onReaderGone: () => void = () => {},
  ) {
    const fd = Number(env.MLOPS_EVENTS_FD);
    this.fd = Number.isInteger(fd) && fd > 2 ? fd : null;
  }

  /** Starts the durable copy once the run folder exists. */
  attachFile(file: string): void {
    this.file = fs.openSync(file, 'a');
  }

  emit(payload: Payload): RunEvent {
    const event = { ...payload, runId: this.runId, at: new Date().toISOString() } as RunEvent;
    const line = JSON.stringify(event) + '\n';
    if (this.file !== null) fs.writeSync(this.file, line);
    if (this.fd !== null) {
      try {
        fs.writeSync(this.fd, line);
      } catch {
        // The reader went away (parent killed): nobody waits for this run any more. events.jsonl
        // keeps the record; the runner cancels the run rather than train on as an orphan.
        this.fd = null;
        this.onReaderGone();
      }
    }
    return event;
  }

  close(): void {
    if (this.file !== null) fs.closeSync(this.file);
    this.file = null;
  }
}
