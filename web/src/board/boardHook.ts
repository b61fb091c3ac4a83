//! The board's side of `window.__werktafel`: connection state, notes and
//! people, and the workshop state (phase, drafts, groups, arrows, votes).
import { readVoteTotals } from '../control'
import type { NoteView } from '../schema'
import { setHook, type HookNote } from '../testHook'
import type { Board } from './board'

export function installBoardHook (board: Board): void {
  const c = board.connection
  const edits = board.edits
  const hookNote = ({ id, text, lane, color, x, y, author, owner, due, group, provenance }: NoteView): HookNote =>
    ({ id, text, lane, color, x, y, author, owner, due, group, provenance })
  setHook({
    page: 'board',
    event: board.event,
    table: board.tableId,
    get status () { return c.current.status },
    get synced () { return c.current.synced },
    get localLoaded () { return c.current.localLoaded },
    ready: true,
    notes: () => edits.table.allNotes().map(hookNote),
    people: () => board.presence.people().map(p => p.name),
    whenStored: () => c.whenStored(),
    disconnect: () => c.disconnect(),
    connect: () => c.connect(),
    marketTips: () => board.marketPanel.tips(),
    facilitation: {
      control: () => board.control,
      editable: () => board.editable,
      drafts: () => edits.drafts?.table.allNotes().map(hookNote) ?? [],
      draftsReady: () => edits.drafts?.connection.current.synced ?? false,
      groups: () => edits.groups.allGroups().map(g => ({
        id: g.id,
        title: g.title,
        notes: edits.table.allNotes().filter(n => n.group === g.id).map(n => n.id),
      })),
      connectors: () => edits.groups.allConnectors().map(({ id, from, to, label }) => ({ id, from, to, label })),
      votes: () => ({
        ...board.voting.mine,
        totals: Object.fromEntries(readVoteTotals(c.doc)),
        refusal: board.voting.refusal,
      }),
    },
  })
}
