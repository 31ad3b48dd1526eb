/**
 * Drift: where a CustProfile item disagrees with the customer's CustTransactions rows (the source of
 * truth), how it disagrees, and whether a difference seen while the stream runs is drift or only lag.
 *
 * @since 0.1.0
 */
import * as Elite from "./Elite.js"
import type { Profile, Status } from "./Profile.js"
import * as ProfileUpdate from "./ProfileUpdate.js"
import { type CustomerId, guardKey, type Transaction } from "./Transaction.js"

/**
 * How a profile differs from its rows:
 * - `total`: the stored total is not the sum of the rows;
 * - `status`: the stored status is not what the rule gives for the stored total, or for the sum;
 * - `missing profile`: the customer has rows but no profile;
 * - `no rows`: the profile holds a total above 0 but the customer has no rows.
 *
 * @since 0.1.0
 * @category models
 */
export type Kind = "total" | "status" | "missing profile" | "no rows"

/**
 * What a profile says, as `Profile.fromItem` reads it (a missing or unknown `CustStatus` reads as
 * `Normal`, as the next write would treat it).
 *
 * @since 0.1.0
 * @category models
 */
export interface Stored {
  readonly totalTnValue: number
  readonly custStatus: Status
}

/**
 * A customer whose profile disagrees with their rows. `stored` is absent when there is no profile,
 * `computed` (the sum of the rows) when there are no rows. `kinds` is never empty.
 *
 * @since 0.1.0
 * @category models
 */
export interface Mismatch {
  readonly _tag: "Mismatch"
  readonly custId: string
  readonly stored: Stored | undefined
  readonly computed: number | undefined
  readonly kinds: ReadonlyArray<Kind>
}

/**
 * A customer who cannot be compared: one of their rows, or their profile, cannot be read. `reason`
 * names the row or item and the attribute at fault.
 *
 * @since 0.1.0
 * @category models
 */
export interface Unreadable {
  readonly _tag: "Unreadable"
  readonly custId: string
  readonly reason: string
}

/**
 * @since 0.1.0
 * @category models
 */
export type Difference = Mismatch | Unreadable

/**
 * How a profile differs from the sum of its customer's rows, or `undefined` when it agrees (no
 * profile and no rows agree; so does a profile at 0 with no rows, as a Jam customer without purchases).
 *
 * @since 0.1.0
 * @category constructors
 */
export const of = (custId: string, stored: Stored | undefined, computed: number | undefined): Mismatch | undefined => {
  if (stored === undefined) {
    return computed === undefined ? undefined : { _tag: "Mismatch", custId, stored, computed, kinds: ["missing profile"] }
  }
  const kinds: Array<Kind> = []
  const sum = computed ?? 0
  if (stored.totalTnValue !== sum) kinds.push(computed === undefined ? "no rows" : "total")
  if (stored.custStatus !== Elite.statusFor(stored.totalTnValue) || stored.custStatus !== Elite.statusFor(sum)) kinds.push("status")
  return kinds.length === 0 ? undefined : { _tag: "Mismatch", custId, stored, computed, kinds }
}

/**
 * @since 0.1.0
 * @category constructors
 */
export const unreadable = (custId: string, reason: string): Unreadable => ({ _tag: "Unreadable", custId, reason })

/**
 * Orders customer ids by code unit, the same on every machine (unlike `localeCompare`).
 *
 * @since 0.1.0
 * @category ordering
 */
export const byCustId = (a: { readonly custId: string }, b: { readonly custId: string }): number =>
  a.custId < b.custId ? -1 : a.custId > b.custId ? 1 : 0

/**
 * Every customer whose stored profile disagrees with the sum of their rows, by CustID: `stored` holds
 * the profiles, `computed` each customer's sum of rows (a customer absent from it has no rows).
 *
 * @since 0.1.0
 * @category combinators
 */
export const compare = (
  stored: ReadonlyMap<string, Stored>,
  computed: ReadonlyMap<string, number>
): Array<Mismatch> => {
  const out: Array<Mismatch> = []
  for (const custId of new Set([...stored.keys(), ...computed.keys()])) {
    const difference = of(custId, stored.get(custId), computed.get(custId))
    if (difference !== undefined) out.push(difference)
  }
  return out.sort(byCustId)
}

/**
 * The total a recount would write for these rows: their sum, less any row that would take it past
 * 2^53 − 1 (see `ProfileUpdate.recount`), or `undefined` when there are no rows.
 *
 * @since 0.1.0
 * @category rules
 */
export const computedTotal = (custId: CustomerId, rows: ReadonlyArray<Transaction>): number | undefined =>
  rows.length === 0 ? undefined : ProfileUpdate.recount(custId, undefined, rows, 0).next.totalTnValue

/**
 * One precise look at a customer: their profile, read first, and their rows, read after it (both
 * strongly consistent).
 *
 * `pending` names the rows (by TnNum) that the profile's applied log does not know, when the profile
 * agrees with exactly the rows it knows: the difference is then what the stream has yet to deliver,
 * if it ever does. Empty when there is no difference, or when the known rows do not explain it.
 *
 * @since 0.1.0
 * @category models
 */
export interface Check {
  readonly difference: Difference | undefined
  readonly pending: ReadonlyArray<string>
}

/**
 * Compares a profile with the customer's rows (see {@link Check}).
 *
 * @since 0.1.0
 * @category constructors
 */
export const check = (custId: CustomerId, profile: Profile | undefined, rows: ReadonlyArray<Transaction>): Check => {
  const stored = profile === undefined ? undefined : { totalTnValue: profile.totalTnValue, custStatus: profile.custStatus }
  const difference = of(custId, stored, computedTotal(custId, rows))
  if (difference === undefined) return { difference, pending: [] }
  const applied = profile?.applied
  let known = 0
  const pending: Array<string> = []
  for (const row of rows) {
    const key = guardKey(row)
    if (key !== undefined && applied?.has(key) === true) known += row.tnValue
    else pending.push(row.tnNum ?? "(no TnNum)")
  }
  const explained = pending.length > 0 &&
    (stored === undefined || (stored.totalTnValue === known && stored.custStatus === Elite.statusFor(known)))
  return { difference, pending: explained ? pending : [] }
}

/**
 * A check for a customer who cannot be compared: unreadable differences never close by themselves.
 *
 * @since 0.1.0
 * @category constructors
 */
export const unreadableCheck = (custId: string, reason: string): Check => ({ difference: unreadable(custId, reason), pending: [] })

/**
 * Whether a difference seen in successive checks, a settle interval apart, oldest first, is drift.
 *
 * A difference the stream closes within the settle time is lag, not drift. So it is drift when the
 * last check still shows it, and either the rows the profile knows do not explain it (a total or a
 * status that no delivery will put right), or a row was pending at both of the last two checks (the
 * stream did not deliver it within the settle time: most likely it never will, as for a row written
 * before the stream existed, or a profile deleted by hand). A single check cannot tell lag from drift,
 * and counts as drift.
 *
 * @since 0.1.0
 * @category rules
 */
export const isDrift = (checks: ReadonlyArray<Check>): boolean => {
  const last = checks.at(-1)
  if (last?.difference === undefined) return false
  if (last.pending.length === 0) return true
  const before = checks.at(-2)
  if (before === undefined) return true
  const earlier = new Set(before.pending)
  return last.pending.some((tnNum) => earlier.has(tnNum))
}


/**
 * The stored side of a difference: `950 Normal`, or `no profile`.
 *
 * @since 0.1.0
 * @category formatting
 */
export const formatStored = (d: Mismatch): string =>
  d.stored === undefined ? "no profile" : `${d.stored.totalTnValue} ${d.stored.custStatus}`

/**
 * The computed side: the sum of the rows and the status the rule gives it, `1050 Elite`; `0 Normal`
 * when there are no rows.
 *
 * @since 0.1.0
 * @category formatting
 */
export const formatComputed = (d: Mismatch): string => {
  const sum = d.computed ?? 0
  return `${sum} ${Elite.statusFor(sum)}`
}

/**
 * One line per difference, the CustID padded to `width`:
 * `CUST-1  stored 950 Normal  computed 1050 Elite  (total, status)`, or
 * `CUST-9  unreadable: CustTransactions row CUST-9/2 cannot be counted: TnValue.N …`.
 *
 * @since 0.1.0
 * @category formatting
 */
export const format = (d: Difference, width = 0): string => {
  const id = d.custId.padEnd(width)
  return d._tag === "Unreadable"
    ? `${id}  unreadable: ${d.reason}`
    : `${id}  stored ${formatStored(d)}  computed ${formatComputed(d)}  (${d.kinds.join(", ")})`
}

/**
 * Every difference, one line each, in CustID order, with the ids in one column.
 *
 * @since 0.1.0
 * @category formatting
 */
export const formatAll = (differences: ReadonlyArray<Difference>): Array<string> => {
  const width = Math.max(0, ...differences.map((d) => d.custId.length))
  return [...differences].sort(byCustId).map((d) => format(d, width))
}
