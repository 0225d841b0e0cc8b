// A minimal event emitter shaped like vscode.EventEmitter (event(listener) returns a Disposable), for
// the modules that must also run outside VS Code: the event stream, the server process and the
// train flow are tested in plain Node against a real server.

export interface Disposable {
  dispose(): void;
}

export type Event<T> = (listener: (value: T) => void) => Disposable;

export class Emitter<T> implements Disposable {
  private readonly listeners = new Set<(value: T) => void>();

  readonly event: Event<T> = (listener) => {
    this.listeners.add(listener);
    return { dispose: () => void this.listeners.delete(listener) };
  };

  fire(value: T): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(value);
      } catch (err) {
        // One failing listener must not starve the others (nor break the stream that fires).
        console.error(err);
      }
    }
  }

  dispose(): void {
    this.listeners.clear();
  }
}
