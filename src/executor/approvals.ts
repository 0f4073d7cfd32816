// Approvals asked together: the units of a wave reach their gates and finalize steps (after their soak) at about the
// same time, each with a question. Asked one by one, the prompts would interleave with the other units' progress and
// stop the live view. The desk gathers them and asks once no unit is still running a step (or after maxWaitMs, so a
// unit waiting days for replication does not hold back another one's approval).
import type {ExecEvent} from './types.js'

interface Pending {
  text: string
  units: string[]
  resolve: (yes: boolean) => void
}

export class ApprovalDesk {
  /** Units with a step (or a soak, or a compensation) under way. */
  private readonly running = new Set<string>()
  private waiting: Pending[] = []
  private firstWaitingAt = 0
  private timer?: NodeJS.Timeout
  private asking = false

  /**
   * @param ask puts the questions to a person, all at once, and resolves with one answer per question.
   * @param settleMs quiet time after the last step ended before asking (others may be about to ask too).
   */
  constructor(
    private readonly ask: (questions: string[]) => Promise<boolean[]>,
    private readonly signal: AbortSignal,
    private readonly settleMs = 300,
    private readonly maxWaitMs = 10_000,
  ) {
    signal.addEventListener('abort', () => this.declineAll(), {once: true})
  }

  /** Follows the run's events to know which units are busy. */
  observe(e: ExecEvent): void {
    switch (e.type) {
      case 'step-start':
        this.running.add(e.app)
        break
      case 'step-end':
        // A failed attempt with a retry coming is still busy.
        if (e.retryInMs === undefined) this.running.delete(e.app)
        break
      case 'rollback-step':
        if (e.status === 'started') this.running.add(e.app)
        else this.running.delete(e.app)
        break
      case 'app-end':
        this.running.delete(e.app)
        break
      default:
        return
    }
    this.schedule()
  }

  /** A unit's question (its soak, if any, has passed): answered when the desk asks the batch. */
  question(text: string, units: string[]): Promise<boolean> {
    if (this.signal.aborted) return Promise.resolve(false)
    for (const u of units) this.running.delete(u)
    return new Promise((resolve) => {
      if (this.waiting.length === 0) this.firstWaitingAt = Date.now()
      this.waiting.push({text, units, resolve})
      this.schedule()
    })
  }

  private schedule(): void {
    if (this.asking || this.waiting.length === 0) return
    clearTimeout(this.timer)
    const overdue = Date.now() - this.firstWaitingAt >= this.maxWaitMs
    if (this.running.size > 0 && !overdue) {
      // Wait for the busy ones, but not past maxWaitMs.
      this.timer = setTimeout(() => this.schedule(), this.maxWaitMs - (Date.now() - this.firstWaitingAt))
      return
    }
    this.timer = setTimeout(() => void this.flush(), this.settleMs)
  }

  private async flush(): Promise<void> {
    if (this.asking || this.waiting.length === 0) return
    this.asking = true
    const batch = this.waiting
    this.waiting = []
    let answers: boolean[]
    try {
      answers = this.signal.aborted ? batch.map(() => false) : await this.ask(batch.map((q) => q.text))
    } catch {
      answers = batch.map(() => false)
    }
    this.asking = false
    batch.forEach((q, i) => {
      q.resolve(!!answers[i] && !this.signal.aborted)
    })
    if (this.waiting.length > 0) this.firstWaitingAt = Date.now()
    this.schedule()
  }

  private declineAll(): void {
    clearTimeout(this.timer)
    const batch = this.waiting
    this.waiting = []
    for (const q of batch) q.resolve(false)
  }

  /** Stops the timers (the run is over). */
  close(): void {
    clearTimeout(this.timer)
    this.declineAll()
  }
}

/**
 * Reads the answer to a batch: y/yes approves all, n/no/empty none, numbers (1,3 or 1 3) those questions.
 * Returns undefined when the answer is not understood (ask again).
 */
export function parseBatchAnswer(answer: string, count: number): boolean[] | undefined {
  const a = answer.trim().toLowerCase()
  if (a === '' || a === 'n' || a === 'no' || a === 'none') return Array.from({length: count}, () => false)
  if (a === 'y' || a === 'yes' || a === 'all') return Array.from({length: count}, () => true)
  const picked = a.split(/[\s,]+/).filter(Boolean)
  if (picked.length === 0 || !picked.every((p) => /^\d+$/.test(p) && Number(p) >= 1 && Number(p) <= count))
    return undefined
  const set = new Set(picked.map(Number))
  return Array.from({length: count}, (_, i) => set.has(i + 1))
}
