/**
 * What counting one customer's planned transactions does to their profile: the next profile, and
 * which transactions were new and which were counted before.
 *
 * @since 0.1.0
 */
import * as AppliedLog from "./AppliedLog.js"
import * as Elite from "./Elite.js"
import type { CustomerPlan } from "./Plan.js"
import type { Profile } from "./Profile.js"
import * as ProfileModule from "./Profile.js"
import { guardKey, type Transaction } from "./Transaction.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface ProfileUpdate {
  readonly previous: Profile
  /** The profile to write; equal to `previous` when `applied` is empty, and then nothing is written. */
  readonly next: Profile
  readonly applied: ReadonlyArray<Transaction>
  /** Counted by an earlier delivery: in the profile's applied log already. */
  readonly duplicates: ReadonlyArray<Transaction>
  /** Counted now with nothing to recognise a repeat by (no TnNum, no SequenceNumber). */
  readonly unguarded: ReadonlyArray<Transaction>
  /** Not counted: adding it would take the total past `Number.MAX_SAFE_INTEGER`, where sums stop being exact. */
  readonly overflowing: ReadonlyArray<Transaction>
}

/**
 * Counts each transaction of the plan not yet in the profile's applied log, and sets the status from
 * the new total. `current` is `undefined` for a customer without a profile.
 *
 * @since 0.1.0
 * @category rules
 */
export const make = (
  current: Profile | undefined,
  plan: CustomerPlan,
  nowSeconds: number,
  retentionSeconds: number = AppliedLog.RETENTION_SECONDS
): ProfileUpdate => {
  const previous = current ?? ProfileModule.empty(plan.custId)
  const applied: Array<Transaction> = []
  const duplicates: Array<Transaction> = []
  const unguarded: Array<Transaction> = []
  const overflowing: Array<Transaction> = []
  const keys: Array<string> = []
  let totalTnValue = previous.totalTnValue
  for (const tx of plan.transactions) {
    const key = guardKey(tx)
    if (key !== undefined && previous.applied.has(key)) {
      duplicates.push(tx)
    } else if (!Number.isSafeInteger(totalTnValue + tx.tnValue)) {
      overflowing.push(tx)
    } else {
      totalTnValue += tx.tnValue
      applied.push(tx)
      if (key === undefined) unguarded.push(tx)
      else keys.push(key)
    }
  }
  if (applied.length === 0) return { previous, next: previous, applied, duplicates, unguarded, overflowing }
  const next: Profile = {
    custId: previous.custId,
    totalTnValue,
    custStatus: Elite.statusFor(totalTnValue),
    applied: AppliedLog.record(previous.applied, keys, nowSeconds, retentionSeconds),
    version: (previous.version ?? 0) + 1
  }
  return { previous, next, applied, duplicates, unguarded, overflowing }
}
