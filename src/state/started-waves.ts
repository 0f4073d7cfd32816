// Which waves have started, read from a plan's state journal: a re-plan keeps them, and `migrate validate` lets them
// keep the dates they started with.
import {existsSync, readFileSync} from 'node:fs'
import type {JournalEvent} from '../schema/state.js'

/** Wave numbers the state journal shows as started or finished (any event naming the wave). */
export function startedWaves(journalFile: string): number[] {
  if (!existsSync(journalFile)) return []
  const waves = new Set<number>()
  for (const line of readFileSync(journalFile, 'utf8').split('\n')) {
    if (line.trim() === '') continue
    try {
      const ev = JSON.parse(line) as {wave?: unknown}
      if (typeof ev.wave === 'number' && Number.isInteger(ev.wave) && ev.wave > 0) waves.add(ev.wave)
    } catch {
      // A torn last line (crash mid-append) or a corrupt line: `migrate validate` reports it; it names no wave here.
    }
  }
  return [...waves].sort((a, b) => a - b)
}

/** The same, from events a state backend read (a shared backend holds no journal file beside the plan). */
export function startedWavesOf(events: readonly JournalEvent[]): number[] {
  return [...new Set(events.flatMap((e) => (e.wave !== undefined ? [e.wave] : [])))].sort((a, b) => a - b)
}
