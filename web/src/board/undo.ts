//! Undo and redo of this participant's own edits only (Y.UndoManager with the
//! local origin as the only tracked origin), plus the keyboard shortcuts.
import * as Y from 'yjs'

export class Undo {
  readonly manager: Y.UndoManager
  private readonly listeners = new Set<() => void>()

  constructor (scope: ConstructorParameters<typeof Y.UndoManager>[0], localOrigin: unknown) {
    this.manager = new Y.UndoManager(scope, {
      trackedOrigins: new Set([localOrigin]),
      // Keystrokes within this window become one undo step.
      captureTimeout: 600,
    })
    const notify = (): void => { for (const fn of this.listeners) fn() }
    this.manager.on('stack-item-added', notify)
    this.manager.on('stack-item-popped', notify)
    this.manager.on('stack-cleared', notify)
  }

  get canUndo (): boolean { return this.manager.undoStack.length > 0 }
  get canRedo (): boolean { return this.manager.redoStack.length > 0 }

  undo (): void { this.manager.undo() }
  redo (): void { this.manager.redo() }

  /** Ends the current undo step so the next change becomes its own step. */
  boundary (): void { this.manager.stopCapturing() }

  /** The most recent undo step, to check later whether it is still on top. */
  top (): unknown { return this.manager.undoStack[this.manager.undoStack.length - 1] }

  onChange (fn: () => void): () => void {
    this.listeners.add(fn)
    return () => this.listeners.delete(fn)
  }

  /** Handles Ctrl/Cmd+Z, Ctrl/Cmd+Shift+Z and Ctrl+Y; returns true if it did. */
  handleKey (e: KeyboardEvent): boolean {
    const mod = e.ctrlKey || e.metaKey
    if (!mod || e.altKey) return false
    const key = e.key.toLowerCase()
    if (key === 'z' && !e.shiftKey) { this.undo(); return true }
    if ((key === 'z' && e.shiftKey) || (key === 'y' && !e.shiftKey)) { this.redo(); return true }
    return false
  }

  destroy (): void {
    this.manager.destroy()
    this.listeners.clear()
  }
}
