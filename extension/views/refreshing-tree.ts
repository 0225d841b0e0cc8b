import * as vscode from 'vscode';
import { Coalescer } from '../coalescer';

/**
 * The plumbing every server-backed tree shares: a change emitter for VS Code and a refresh() that
 * coalesces overlapping calls into one load() (see Coalescer), so a burst of events reads the server once.
 */
export abstract class RefreshingTree<T> implements vscode.Disposable {
  protected readonly changed = new vscode.EventEmitter<T | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly refresher = new Coalescer(() => this.load());

  /** Reads the server again; overlapping calls share one load. */
  refresh(): Promise<void> {
    return this.refresher.request();
  }

  dispose(): void {
    this.changed.dispose();
  }

  /** Reads the tree's data and fires `changed`. */
  protected abstract load(): Promise<void>;
}
