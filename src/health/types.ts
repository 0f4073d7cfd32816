// Health check results are values, never exceptions (execa's `reject: false` shape): the executor alone decides
// whether to retry, wait, roll back or stop.

export interface CheckResult {
  status: 'passed' | 'failed'
  /** One line a person reads in the progress view and the journal (no secrets). */
  message: string
  durationMs: number
  /** Measured figures: latency, lag bytes, row counts, … */
  data?: Record<string, unknown>
}

/** Runs one attempt of a check. Must honour `signal` and resolve (not reject) on failure. */
export type CheckRunner<C> = (check: C, signal: AbortSignal) => Promise<CheckResult>
