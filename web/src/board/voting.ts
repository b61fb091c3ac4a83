//! Dot voting at a table: my votes as the server keeps them (fetched with my
//! identity token, changed one vote at a time), the totals the server
//! publishes in `votes`, and the dots each note shows.
import { castVote, fetchMyVotes, Refused, type MyVotes } from '../facilitation'
import { tf } from '../i18nFacilitation'

export class Voting {
  private state: MyVotes = { budget: 3, used: 0, mine: {} }
  private token = ''
  /** The last refusal shown, for the test hook. */
  refusal = ''

  constructor (
    private readonly event: string,
    private readonly table: string,
    private readonly say: (message: string) => void,
    private readonly changed: () => void,
  ) {}

  get mine (): MyVotes { return this.state }
  get left (): number { return Math.max(0, this.state.budget - this.state.used) }

  /** Starts using `token` (once the server has signed the identity) and loads my votes. */
  async setToken (token: string): Promise<void> {
    this.token = token
    await this.refresh()
  }

  async refresh (): Promise<void> {
    if (!this.token) return
    try {
      this.state = await fetchMyVotes(this.event, this.table, this.token)
      this.changed()
    } catch { /* offline: keep what we had; the next phase change asks again */ }
  }

  async cast (noteId: string, delta: 1 | -1): Promise<void> {
    if (!this.token) { this.say(tf('voteNeedsName')); return }
    try {
      this.state = await castVote(this.event, this.table, this.token, noteId, delta)
      this.refusal = ''
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err)
      const code = err instanceof Refused ? err.code : ''
      this.refusal = code === 'budget'
        ? tf('voteRefused_budget', { n: String(this.state.budget) })
        : code === 'phase'
          ? tf('voteRefused_phase')
          : code === 'nothing-to-take-back'
            ? tf('voteRefused_nothing')
            : tf('voteRefused', { message })
      this.say(this.refusal)
    }
    this.changed()
  }

  /**
   * Fills a note's vote row: while voting, my dots (each takes a vote back)
   * and "+ stem"; whenever totals are published, the total.
   */
  render (slot: HTMLElement, noteId: string, voting: boolean, total: number | undefined): void {
    const parts: HTMLElement[] = []
    if (voting) {
      const mine = this.state.mine[noteId] ?? 0
      for (let i = 0; i < mine; i++) {
        const dot = button('vote-dot', '', tf('unvote'))
        dot.addEventListener('click', () => void this.cast(noteId, -1))
        parts.push(dot)
      }
      const add = button('vote-add', tf('vote'), tf('voteLabel'))
      add.classList.toggle('vote-add--spent', this.left === 0)
      add.addEventListener('click', () => void this.cast(noteId, 1))
      parts.push(add)
    }
    if (total !== undefined) {
      const count = document.createElement('span')
      count.className = 'vote-total'
      count.textContent = total === 1 ? tf('voteTotal') : tf('votesTotal', { n: total })
      parts.push(count)
    }
    slot.hidden = parts.length === 0
    slot.dataset.mine = String(this.state.mine[noteId] ?? 0)
    slot.replaceChildren(...parts)
  }
}

function button (className: string, text: string, label: string): HTMLButtonElement {
  const b = document.createElement('button')
  b.type = 'button'
  b.className = className
  b.textContent = text
  b.title = label
  b.setAttribute('aria-label', label)
  return b
}
