//! The TypeScript side of the stand document (docs/schema.md, "The stand
//! document"; Rust: shared/src/market.rs): the only web module that knows
//! its key names. Readers are lenient, writers write exactly the schema.
import * as Y from 'yjs'
import type { Material, Team, Tip } from './marketApi'

export const STAND_ROOTS = ['meta', 'stand', 'materials', 'tips', 'votes'] as const
export const TIP_KINDS = ['tip', 'vraag'] as const
export type TipKind = (typeof TIP_KINDS)[number]
/** Longest tip a visitor can write (the server's readers keep as much). */
export const MAX_TIP_CHARS = 500

export class StandDoc {
  readonly meta: Y.Map<unknown>
  readonly stand: Y.Map<unknown>
  readonly materials: Y.Map<Y.Map<unknown>>
  readonly tips: Y.Map<Y.Map<unknown>>
  readonly votes: Y.Map<unknown>

  constructor (readonly doc: Y.Doc) {
    this.meta = doc.getMap('meta')
    this.stand = doc.getMap('stand')
    this.materials = doc.getMap('materials')
    this.tips = doc.getMap('tips')
    this.votes = doc.getMap('votes')
  }

  team (): Team | null {
    const team = this.meta.get('team') as Team | undefined
    return team && typeof team.number === 'number' ? { number: team.number, name: str(team.name), focus: Array.isArray(team.focus) ? team.focus : [] } : null
  }

  /** "waar staan we" or "ambities"; null until the server's first state arrived. */
  text (name: 'status' | 'ambitions'): Y.Text | null {
    const t = this.stand.get(name)
    return t instanceof Y.Text ? t : null
  }

  readTips (): Tip[] {
    const out: Tip[] = []
    for (const [id, m] of this.tips.entries()) {
      if (!(m instanceof Y.Map)) continue
      const text = str(m.get('text')).slice(0, MAX_TIP_CHARS)
      if (!text.trim()) continue
      const useful = this.votes.get(id)
      out.push({
        id,
        kind: m.get('kind') === 'vraag' ? 'vraag' : 'tip',
        text,
        author: str(m.get('author')),
        authorId: str(m.get('authorId')),
        createdAt: num(m.get('createdAt')),
        useful: typeof useful === 'number' ? useful : 0,
      })
    }
    return out.sort((a, b) => b.createdAt - a.createdAt || a.id.localeCompare(b.id))
  }

  readMaterials (): Material[] {
    const out: Material[] = []
    for (const [id, m] of this.materials.entries()) {
      if (!(m instanceof Y.Map)) continue
      out.push({
        id,
        kind: str(m.get('kind')),
        title: str(m.get('title')),
        url: str(m.get('url')),
        file: str(m.get('file')),
        mime: str(m.get('mime')),
        size: num(m.get('size')),
        author: str(m.get('author')),
        createdAt: num(m.get('createdAt')),
      })
    }
    return out.sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id))
  }

  addTip (kind: TipKind, text: string, author: string, authorId: string): string {
    const id = newId()
    this.doc.transact(() => {
      const tip = new Y.Map<unknown>()
      this.tips.set(id, tip)
      tip.set('kind', kind)
      tip.set('text', text.slice(0, MAX_TIP_CHARS))
      tip.set('author', author)
      tip.set('authorId', authorId)
      tip.set('createdAt', Date.now())
    })
    return id
  }

  /** A link; files are put on the stand by the server when uploaded. */
  addLink (title: string, url: string, author: string, authorId: string): string {
    const id = newId()
    this.doc.transact(() => {
      const m = new Y.Map<unknown>()
      this.materials.set(id, m)
      m.set('kind', 'link')
      m.set('title', title)
      m.set('url', url)
      m.set('file', '')
      m.set('mime', '')
      m.set('size', 0)
      m.set('author', author)
      m.set('authorId', authorId)
      m.set('createdAt', Date.now())
    })
    return id
  }
}

/** Only http(s) links are written or shown as links (no javascript: and the like). */
export function isWebLink (url: string): boolean {
  try {
    const u = new URL(url)
    return u.protocol === 'https:' || u.protocol === 'http:'
  } catch { return false }
}

function newId (): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12))
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

const str = (v: unknown): string => typeof v === 'string' ? v : v instanceof Y.Text ? v.toString() : ''
const num = (v: unknown): number => typeof v === 'number' && Number.isFinite(v) ? v : 0
