/**
 * What counting one customer's transactions does to their profile: the next profile, which
 * transactions were new and which were counted before, and the promotion to Elite if one happened.
 *
 * @since 0.1.0
 */
import * as AppliedLog from "./AppliedLog.js"
import * as AppliedPages from "./AppliedPages.js"
import * as Elite from "./Elite.js"
import * as Integers from "./Integers.js"
import type { CustomerPlan } from "./Plan.js"
import type { Profile } from "./Profile.js"
import * as ProfileModule from "./Profile.js"
import * as Promotion from "./Promotion.js"
import { type CustomerId, guardKey, type Transaction } from "./Transaction.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface ProfileUpdate {
  readonly previous: Profile
  /** The profile to write; the same object as `previous` when nothing changes, and then nothing is written. */
  readonly next: Profile
  readonly applied: ReadonlyArray<Transaction>
  /** Counted before: in the profile's applied log already (or, for a recount, already in its total). */
  readonly duplicates: ReadonlyArray<Transaction>
  /** Counted now with nothing to recognise a repeat by (no TnNum, no SequenceNumber). */
  readonly unguarded: ReadonlyArray<Transaction>
  /** Not counted: adding it would take the total past `Number.MAX_SAFE_INTEGER`, where sums stop being exact. */
  readonly overflowing: ReadonlyArray<Transaction>
  /** Present when this update takes the customer from Normal to Elite: written with it, atomically. */
  readonly promotion: Promotion.Promotion | undefined
  /** Pages of the applied log to write, fresh, before the profile that refers to them (see `AppliedPages`). */
  readonly pages: ReadonlyArray<AppliedPages.Page>
}

/**
 * What the writer knows beyond the profile: the ids found in the profile's pages, and keys an earlier
 * attempt found taken, which this one must step over.
 *
 * @since 0.1.0
 * @category models
 */
export interface Context {
  /** Ids read from the profile's pages (`AppliedPages.toRead` says which to read): counted before. */
  readonly spilled?: ReadonlySet<string> | undefined
  readonly avoid?: Avoid | undefined
}

/**
 * Keys taken in CustEliteEvents by something this profile does not know (an earlier life of the profile,
 * deleted or restored since, or a writer that lost its race).
 *
 * @since 0.1.0
 * @category models
 */
export interface Avoid {
  /** An EliteQualified event exists at this version: the next version must be past it. */
  readonly version?: number | undefined
  /** A page of this run exists: new pages start a run past it. */
  readonly base?: string | undefined
}

const noSpill: ReadonlySet<string> = new Set()

/**
 * Whether the update writes anything.
 *
 * @since 0.1.0
 * @category guards
 */
export const changes = (update: ProfileUpdate): boolean => update.next !== update.previous

/**
 * The next profile for a new total: status from the rule, one version up, and `EliteSince` set on a
 * promotion, kept while Elite, cleared on a demotion (only a repair demotes). A customer promoted once
 * and still holding `EliteSince` is not promoted again, whatever a hand-edited total says.
 */
const nextProfile = (
  previous: Profile,
  totalTnValue: number,
  log: AppliedLog.AppliedLog,
  nowSeconds: number,
  retentionSeconds: number,
  avoid: Avoid | undefined,
  crossing: (at: { readonly qualifiedAt: string; readonly profileVersion: number }) => Promotion.Promotion | undefined
): Pick<ProfileUpdate, "next" | "promotion" | "pages"> => {
  const { log: applied, segments: pages, pages: written } = AppliedPages.spill(previous.custId, log, previous.pages, nowSeconds, {
    retentionSeconds,
    avoidBase: avoid?.base
  })
  const version = nextVersion(previous.version, nowSeconds, avoid?.version)
  const custStatus = Elite.statusFor(totalTnValue)
  const promoted = custStatus === "Elite" && previous.eliteSince === undefined &&
    Elite.statusFor(previous.totalTnValue) === "Normal"
  const promotion = promoted ? crossing({ qualifiedAt: new Date(nowSeconds * 1000).toISOString(), profileVersion: version }) : undefined
  const eliteSince = custStatus === "Normal" ? undefined : promotion?.qualifiedAt ?? previous.eliteSince
  return { next: { custId: previous.custId, totalTnValue, custStatus, applied, pages, version, eliteSince }, promotion, pages: written }
}

/**
 * One up; past `taken` too when an event already holds that version. A deleted or restored profile
 * counts its versions again from where it stands, so its events' keys may repeat: then the version jumps
 * to the clock (a thousand a second, faster than any item is written), past anything an earlier life
 * of the profile reached.
 *
 * @since 0.1.0
 * @category rules
 */
export const nextVersion = (previous: number | undefined, nowSeconds: number, taken?: number | undefined): number => {
  const next = (previous ?? 0) + 1
  return taken === undefined ? next : Math.max(next, taken + 1, nowSeconds * 1000)
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
  retentionSeconds: number = AppliedLog.RETENTION_SECONDS,
  context: Context = {}
): ProfileUpdate => {
  const previous = current ?? ProfileModule.empty(plan.custId)
  const spilled = context.spilled ?? noSpill
  const applied: Array<Transaction> = []
  const duplicates: Array<Transaction> = []
  const unguarded: Array<Transaction> = []
  const overflowing: Array<Transaction> = []
  const keys: Array<string> = []
  let totalTnValue = previous.totalTnValue
  for (const tx of plan.transactions) {
    const key = guardKey(tx)
    if (key !== undefined && (previous.applied.has(key) || spilled.has(key))) {
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
  const unchanged = { previous, next: previous, applied, duplicates, unguarded, overflowing, promotion: undefined, pages: [] }
  if (applied.length === 0) return unchanged
  const log = AppliedLog.record(previous.applied, keys, nowSeconds, retentionSeconds)
  return {
    ...unchanged,
    ...nextProfile(
      previous,
      totalTnValue,
      log,
      nowSeconds,
      retentionSeconds,
      context.avoid,
      (at) => Promotion.find(previous.totalTnValue, applied, at)
    )
  }
}

/**
 * Sets a customer's total to the sum of their CustTransactions rows, the source of truth: what backfill
 * and repair write. Idempotent by construction, so it needs no memory of what it did before.
 *
 * Every row's key joins the applied log, so a row the stream has yet to deliver is recognised as
 * counted when it comes. That is exact when `rows` was read after `current` and the write is
 * conditioned on `current`'s version: a row the stream counts in between changes the version and the
 * write loses. `applied` are the rows the profile's log did not know, when the total moves; when it
 * already equals the sum, every row is a duplicate, and the write (if any) only logs the rows' keys —
 * a stored total can equal the sum by coincidence while a row is still on its way down the stream.
 * Nothing changes when the total and status agree with the rows and the log knows every row.
 *
 * @since 0.1.0
 * @category rules
 */
export const recount = (
  custId: CustomerId,
  current: Profile | undefined,
  rows: ReadonlyArray<Transaction>,
  nowSeconds: number,
  retentionSeconds: number = AppliedLog.RETENTION_SECONDS,
  context: Context = {}
): ProfileUpdate => {
  const previous = current ?? ProfileModule.empty(custId)
  const spilled = context.spilled ?? noSpill
  // In TnNum order, so the promotion names the row that crossed the line as the purchases happened.
  const ordered = byTnNum(rows)
  const counted: Array<Transaction> = []
  const overflowing: Array<Transaction> = []
  let totalTnValue = 0
  for (const tx of ordered) {
    if (Number.isSafeInteger(totalTnValue + tx.tnValue)) {
      totalTnValue += tx.tnValue
      counted.push(tx)
    } else overflowing.push(tx)
  }
  const known = (tx: Transaction) => {
    const key = guardKey(tx)
    return key !== undefined && (previous.applied.has(key) || spilled.has(key))
  }
  const sameTotal = current !== undefined && previous.totalTnValue === totalTnValue
  if (sameTotal && previous.custStatus === Elite.statusFor(totalTnValue) && counted.every(known)) {
    return { previous, next: previous, applied: [], duplicates: counted, unguarded: [], overflowing, promotion: undefined, pages: [] }
  }
  // A key in a page stays there until the page is forgotten, later than the stream could bring it again.
  const keys = counted.flatMap((tx) => guardKey(tx) ?? []).filter((key) => !spilled.has(key))
  const log = AppliedLog.record(previous.applied, keys, nowSeconds, retentionSeconds)
  return {
    previous,
    // Replayed from zero: the row that crossed the line is the one that did so as the purchases happened.
    ...nextProfile(previous, totalTnValue, log, nowSeconds, retentionSeconds, context.avoid, (at) => Promotion.find(0, counted, at)),
    applied: sameTotal ? [] : counted.filter((tx) => !known(tx)),
    duplicates: sameTotal ? counted : counted.filter(known),
    unguarded: [],
    overflowing
  }
}

/** The rows in TnNum order, those without one first; each TnNum made canonical once, not at every comparison. */
const byTnNum = (rows: ReadonlyArray<Transaction>): Array<Transaction> =>
  rows
    .map((tx) => ({ tx, n: tx.tnNum === undefined ? undefined : Integers.canonical(tx.tnNum) }))
    .sort(({ n: x }, { n: y }) => (x === undefined || y === undefined ? (x === y ? 0 : x === undefined ? -1 : 1) : Integers.compareCanonical(x, y)))
    .map(({ tx }) => tx)
