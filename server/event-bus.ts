import { EventEmitter } from 'node:events';
import type { ServerEvent } from '../common/contract';

/** In-process fan-out of everything the event stream (/api/events) and /metrics report. */
export class EventBus {
  private readonly emitter = new EventEmitter();

  constructor() {
    this.emitter.setMaxListeners(0); // one listener per connected SSE client
  }

  publish(event: ServerEvent): void {
    this.emitter.emit('event', event);
  }

  subscribe(listener: (event: ServerEvent) => void): () => void {
    this.emitter.on('event', listener);
    return () => this.emitter.off('event', listener);
  }
}
