/**
 * The transactions a profile has already counted, kept on the profile itself so that the total and the
 * proof of counting change in one conditional write.
 *
 * @since 0.1.0
 */
import * as Result from "effect/Result"
import * as AppliedIds from "./AppliedIds.js"

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

/**
 * The log as the profile's `AppliedTn` string: for each time keys were counted, `seconds:ids` (the ids
 * as `AppliedIds` writes them), oldest first, joined by `;`. One string attribute, not a map of a
 * number per key: a fraction of the bytes, and DynamoDB (Local most of all) parses no number per key
 * on every write of the profile.
 *
 * @since 0.1.0
 * @category encoding
 */
export const encode = (log: AppliedLog): string => {
  const byTime = new Map<number, Array<string>>()
  for (const [key, at] of log) {
    const keys = byTime.get(at)
    if (keys === undefined) byTime.set(at, [key])
    else keys.push(key)
  }
  return [...byTime].sort(([a], [b]) => a - b).map(([at, keys]) => `${at}:${AppliedIds.encode(keys)}`).join(";")
}

const seconds = /^\d{1,15}$/

/**
 * A log from the text `encode` made, or what is wrong with it.
 *
 * @since 0.1.0
 * @category decoding
 */
export const decode = (text: string): Result.Result<AppliedLog, string> => {
  const log = new Map<string, number>()
  if (text === "") return Result.succeed(log)
  for (const group of text.split(";")) {
    const colon = group.indexOf(":")
    const at = group.slice(0, colon)
    if (colon < 0 || !seconds.test(at)) return Result.fail(`"${group.slice(0, 40)}" does not start with a time in seconds and ":"`)
    const keys = AppliedIds.decode(group.slice(colon + 1))
    if (Result.isFailure(keys)) return Result.fail(keys.failure)
    for (const key of keys.success) log.set(key, Number(at))
  }
  return Result.succeed(log)
}
