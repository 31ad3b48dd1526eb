/**
 * The transactions a profile has already counted, kept on the profile itself so that the total and the
 * proof of counting change in one conditional write.
 *
 * @since 0.1.0
 */

/**
 * Guard key (see `Transaction.guardKey`) → when it was counted, in epoch seconds.
 *
 * @since 0.1.0
 * @category models
 */
export type AppliedLog = ReadonlyMap<string, number>

/**
 * How long a counted key is remembered: a stream keeps a record 24 hours, so no redelivery can come
 * later than that after it was first counted; one hour more absorbs clock skew.
 *
 * @since 0.1.0
 * @category constants
 */
export const RETENTION_SECONDS = 25 * 60 * 60

/**
 * @since 0.1.0
 * @category constructors
 */
export const empty: AppliedLog = new Map()

/**
 * @since 0.1.0
 * @category constructors
 */
export const fromEntries = (entries: Iterable<readonly [string, number]>): AppliedLog => new Map(entries)

/**
 * Adds keys counted at `now` and forgets those older than the retention, which keeps the profile item
 * (and so the write units of every update) small.
 *
 * @since 0.1.0
 * @category combinators
 */
export const record = (
  log: AppliedLog,
  keys: Iterable<string>,
  nowSeconds: number,
  retentionSeconds: number = RETENTION_SECONDS
): AppliedLog => {
  const next = new Map<string, number>()
  for (const [key, at] of log) if (at > nowSeconds - retentionSeconds) next.set(key, at)
  for (const key of keys) next.set(key, nowSeconds)
  return next
}
