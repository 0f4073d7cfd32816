// Where the servers of a per-server runbook wait for each other: the cutover barrier and the first finalize step.
import type {Step} from '../schema/template.js'
import {stepKind} from './render.js'

/** Phases from which an application no longer serves from its source alone: its servers enter them together. */
const BARRIER_PHASES = new Set(['freeze', 'final-sync', 'cutover', 'verify', 'finalize'])

/**
 * The cutover barrier of a per-server runbook: the first step, at or after the first freeze/final-sync/cutover/
 * verify/finalize step, that is not a gate. Gates before it (approve the cutover) are decided by every server first.
 */
export function barrierIndex(steps: readonly Step[]): number | undefined {
  const first = steps.findIndex((s) => s.phase !== undefined && BARRIER_PHASES.has(s.phase))
  if (first < 0) return undefined
  const i = steps.findIndex((s, k) => k >= first && stepKind(s) !== 'gate')
  return i < 0 ? undefined : i
}

/** The first finalize step (the point of no return): every server soaks and is approved before any runs it. */
export function finalizeIndex(steps: readonly Step[]): number | undefined {
  const i = steps.findIndex((s) => s.finalize)
  return i < 0 ? undefined : i
}
