// The options every cloud discovery source (aws, alicloud) takes, from the shared discover flags.

export interface CloudOptions {
  regions: string[]
  allRegions?: boolean
  profile?: string
  /** Where the provider's API is reached instead of its public endpoint for the region. */
  endpoint?: string
  /** Attempts per call (throttled calls are retried with backoff). */
  maxAttempts?: number
  /** Instances per page. */
  pageSize?: number
  /** Regions read at once. */
  concurrency?: number
}
