/**
 * Reconcile: recomputes every customer's total from CustTransactions (the source of truth), compares it
 * with CustProfile, status included, and with `repair` sets each drifted profile right through
 * `Recount.recount`, the handler's own conditional write, so it is safe while the stream runs.
 *
 * Two phases. Parallel Scans of both tables sum each customer's rows and read each profile; they are
 * not one snapshot while the stream runs (a row inserted but not yet delivered looks like drift), so
 * every difference they find is only a candidate. Each candidate is then checked precisely — the
 * profile read strongly consistent, then the customer's rows — and, while it still differs, again
 * after a settle interval, a few times. A difference the stream closes within the settle time is lag,
 * not drift (see `Drift.isDrift`); only a difference that persists is reported and repaired.
 */
import * as Drift from "@dyna/core/Drift"
import * as Profile from "@dyna/core/Profile"
import { CustomerId } from "@dyna/core/Transaction"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import { ProfileStore } from "@dyna/aws/ProfileStore"
import { Recount } from "@dyna/aws/Recount"
import { Tables } from "@dyna/aws/Tables"
import { TransactionStore } from "@dyna/aws/TransactionStore"
import * as Transactions from "../Transactions.js"
import * as Scan from "./Scan.js"

/** Scan segments read side by side when none is asked for. */
export const DEFAULT_SEGMENTS = 4

/** The wait between two precise checks of a customer who still differs. */
export const DEFAULT_SETTLE: Duration.Input = "2 seconds"

/** Precise checks of a candidate at most: the first at once, each further one a settle interval later. */
export const DEFAULT_CHECKS = 3

/** Customers checked or repaired at once. */
export const DEFAULT_CONCURRENCY = 16

export interface Options {
  /** Sets each drifted profile right (`Recount.recount`), then checks it again. */
  readonly repair?: boolean | undefined
  /** Only this customer: no Scan, the same precise checks (and repair). */
  readonly customer?: CustomerId | undefined
  /** Scan segments read side by side (DynamoDB's `TotalSegments`); {@link DEFAULT_SEGMENTS} by default. */
  readonly segments?: number | undefined
  /** The wait between precise checks; {@link DEFAULT_SETTLE} by default. */
  readonly settle?: Duration.Input | undefined
  /** Precise checks of a candidate at most; {@link DEFAULT_CHECKS} by default. */
  readonly checks?: number | undefined
  /** Customers checked or repaired at once; {@link DEFAULT_CONCURRENCY} by default. */
  readonly concurrency?: number | undefined
  /** Called with the items of each scanned page (rows and profiles): a progress bar's feed. */
  readonly onScanned?: ((items: number) => Effect.Effect<void>) | undefined
  /** Called once the Scans are done, with the number of candidates about to be checked precisely. */
  readonly onCandidates?: ((customers: number) => Effect.Effect<void>) | undefined
}

/** What a repair did: set right (and checked again), or not, and why. */
export type Repair =
  | { readonly _tag: "Repaired" }
  | { readonly _tag: "NotRepaired"; readonly reason: string }

/** A drifted customer: the difference as the last check saw it, and the repair, when asked for. */
export interface Finding {
  readonly difference: Drift.Difference
  readonly repair: Repair | undefined
}

export interface Summary {
  /** Distinct customers with a row or a profile (1 with `customer`). */
  readonly customers: number
  /** CustTransactions rows read (with `customer`: that customer's, at the last check). */
  readonly rows: number
  /** CustProfile items read (with `customer`: 0 or 1). */
  readonly profiles: number
  /** Customers the Scans (or, with `customer`, the first check) found different, then checked precisely. */
  readonly candidates: number
  /** Drifted customers, by CustID. */
  readonly findings: ReadonlyArray<Finding>
  readonly elapsedMillis: number
}

/** Candidates whose difference the stream closed within the settle time (or the Scans only imagined). */
export const lag = (summary: Summary): number => summary.candidates - summary.findings.length

/** Drifted customers set right by this run. */
export const repaired = (summary: Summary): number => summary.findings.filter((f) => f.repair?._tag === "Repaired").length

/** Drifted customers left as they are: the run's exit code is 1 when there is any. */
export const remaining = (summary: Summary): number => summary.findings.length - repaired(summary)

/** Rows read per second over the whole run. */
export const rowsPerSecond = (summary: Summary): number =>
  summary.elapsedMillis > 0 ? summary.rows / (summary.elapsedMillis / 1000) : summary.rows

const isCustomerId = Schema.is(CustomerId)

interface Look {
  readonly check: Drift.Check
  readonly rows: number
  readonly profile: boolean
}

/** What the Scans found: each customer's sum of rows and stored profile, and who cannot be read. */
interface Scanned {
  readonly rows: number
  readonly profiles: number
  readonly customers: number
  /** Customers whose profile differs from their scanned rows, or whose row or profile is unreadable. */
  readonly candidates: ReadonlyArray<CustomerId>
  /** Rows or profiles without a CustID to look them up by (possible only in an adopted table): drift as they are. */
  readonly unkeyed: ReadonlyArray<Drift.Unreadable>
}

/**
 * Reconciles every customer (or, with `customer`, one). Fails only when DynamoDB does (unreachable, a
 * table missing); a customer who cannot be read is a finding, never a failure.
 *
 * With `repair`, each drifted customer's profile is recounted: total from the rows, status from the
 * rule, every row's key in the applied log, in one write conditioned on the version the recount read.
 * A stream increment that lands between the recount's read and its write makes the write lose and
 * read again; one that comes after finds its row in the log when the recount summed it, and is counted
 * when the row was written too late to be summed. So a repair never races an increment into a wrong
 * total. Then the customer is checked again, as precisely as before.
 */
export const run = Effect.fn("Reconcile.run")(function*(options: Options = {}) {
  const store = yield* ProfileStore
  const recounts = yield* Recount
  const transactions = yield* TransactionStore
  const tables = yield* Tables
  const startedAt = yield* Clock.currentTimeMillis
  const settle = options.settle ?? DEFAULT_SETTLE
  const checks = Math.max(1, Math.floor(options.checks ?? DEFAULT_CHECKS))
  const concurrency = Math.max(1, Math.floor(options.concurrency ?? DEFAULT_CONCURRENCY))

  /** The profile, read strongly consistent, then the rows: the order a recount reads them in. */
  const look = (custId: CustomerId) =>
    Effect.gen(function*() {
      const profile = yield* store.get(custId)
      const rows = yield* transactions.ofCustomer(custId).pipe(Effect.catchTag("UnreadableRow", Effect.succeed))
      return rows instanceof Transactions.UnreadableRow
        ? { check: Drift.unreadableCheck(custId, rows.message), rows: 0, profile: profile !== undefined } satisfies Look
        : { check: Drift.check(custId, profile, rows), rows: rows.length, profile: profile !== undefined } satisfies Look
    }).pipe(
      Effect.catchTag("UnreadableProfile", (e) =>
        Effect.succeed<Look>({ check: Drift.unreadableCheck(custId, e.message), rows: 0, profile: true }))
    )

  /**
   * Checks each customer at once, then again after each settle interval while their difference lasts
   * (an unreadable one never closes by itself), up to `checks` times; every check of each, oldest first.
   */
  const checkAll = (custIds: ReadonlyArray<CustomerId>) =>
    Effect.gen(function*() {
      const history = new Map<CustomerId, Array<Look>>(custIds.map((id) => [id, []]))
      let open = custIds
      for (let round = 1; open.length > 0; round++) {
        if (round > 1) yield* Effect.sleep(settle)
        yield* Effect.forEach(open, (custId) =>
          look(custId).pipe(Effect.map((seen) => void history.get(custId)?.push(seen))), { concurrency, discard: true })
        open = round >= checks ? [] : open.filter((id) => history.get(id)?.at(-1)?.check.difference?._tag === "Mismatch")
      }
      return history
    })

  const drifted = (looks: ReadonlyArray<Look>) => Drift.isDrift(looks.map((l) => l.check))

  /** Recounts one customer; the reason when it cannot. */
  const recount = (custId: CustomerId) =>
    recounts.recount(custId).pipe(
      Effect.as<string | undefined>(undefined),
      Effect.catchTags({
        UnreadableRow: (e) => Effect.succeed(e.message),
        UnreadableProfile: (e) => Effect.succeed(e.message),
        ProfileTooLarge: (e) => Effect.succeed(e.message),
        LostRace: () => Effect.succeed("the profile kept changing under the stream's writes; run the repair again")
      })
    )

  /** Repairs the drifted customers, then checks them again as precisely as the first time. */
  const repairAll = (found: ReadonlyArray<Drift.Difference>) =>
    Effect.gen(function*() {
      const outcomes = new Map<string, Repair>()
      const recounted: Array<CustomerId> = []
      yield* Effect.forEach(found, (d) => {
        if (d._tag === "Unreadable" || !isCustomerId(d.custId)) {
          outcomes.set(d.custId, { _tag: "NotRepaired", reason: "cannot be recounted until the row or item named is corrected" })
          return Effect.void
        }
        const custId = d.custId
        return recount(custId).pipe(Effect.map((reason) => {
          if (reason === undefined) recounted.push(custId)
          else outcomes.set(custId, { _tag: "NotRepaired", reason })
        }))
      }, { concurrency, discard: true })
      const after = yield* checkAll(recounted)
      for (const [custId, looks] of after) {
        const last = looks.at(-1)?.check.difference
        outcomes.set(
          custId,
          drifted(looks) && last !== undefined
            ? { _tag: "NotRepaired", reason: `still differs after the repair: ${Drift.format(last)}` }
            : { _tag: "Repaired" }
        )
      }
      return outcomes
    })

  const scanned: Scanned = options.customer === undefined
    ? yield* scanBoth(tables, options)
    : { rows: 0, profiles: 0, customers: 1, candidates: [options.customer], unkeyed: [] }
  if (options.onCandidates !== undefined && options.customer === undefined) {
    yield* options.onCandidates(scanned.candidates.length + scanned.unkeyed.length)
  }
  const history = yield* checkAll(scanned.candidates)

  const found: Array<Drift.Difference> = [...scanned.unkeyed]
  for (const looks of history.values()) {
    const last = looks.at(-1)?.check.difference
    if (drifted(looks) && last !== undefined) found.push(last)
  }
  found.sort(Drift.byCustId)
  const repairs = options.repair === true && found.length > 0 ? yield* repairAll(found) : new Map<string, Repair>()
  const findings = found.map((difference): Finding => ({ difference, repair: options.repair === true ? repairs.get(difference.custId) : undefined }))

  // One customer: the figures of its last look; otherwise the Scans'.
  const single = options.customer === undefined ? undefined : history.get(options.customer) ?? []
  const elapsedMillis = (yield* Clock.currentTimeMillis) - startedAt
  return {
    customers: scanned.customers,
    rows: single === undefined ? scanned.rows : single.at(-1)?.rows ?? 0,
    profiles: single === undefined ? scanned.profiles : single.at(-1)?.profile === true ? 1 : 0,
    candidates: single === undefined ? scanned.candidates.length + scanned.unkeyed.length : single.some((l) => l.check.difference !== undefined) ? 1 : 0,
    findings,
    elapsedMillis
  } satisfies Summary
})

/**
 * Both tables at once, each with a parallel Scan: every customer's sum of readable rows and stored
 * profile, compared by `Drift.compare`. A customer with an unreadable row or profile is a candidate too.
 */
const scanBoth = (tables: { readonly transactions: string; readonly profiles: string }, options: Options) =>
  Effect.gen(function*() {
    const segments = options.segments ?? DEFAULT_SEGMENTS
    const sums = new Map<string, number>()
    const stored = new Map<string, Drift.Stored>()
    const unreadable = new Set<CustomerId>()
    const unkeyed: Array<Drift.Unreadable> = []
    /** A customer whose row or profile cannot be read: a candidate, or, without a CustID to look it up by, a finding. */
    const cannotRead = (custId: string | undefined, reason: string) => {
      if (isCustomerId(custId)) unreadable.add(custId)
      else unkeyed.push(Drift.unreadable(custId ?? "(no CustID)", reason))
    }
    let rows = 0
    let profiles = 0
    const report = (n: number) => (options.onScanned === undefined || n === 0 ? Effect.void : options.onScanned(n))

    const scanRows = Scan.forEachPage(tables.transactions, (items) =>
      Effect.suspend(() => {
        rows += items.length
        for (const item of items) {
          const decoded = Transactions.fromItem(item)
          if (Result.isSuccess(decoded)) {
            const { custId, tnValue } = decoded.success
            sums.set(custId, (sums.get(custId) ?? 0) + tnValue)
          } else cannotRead(item["CustID"]?.S, decoded.failure.message)
        }
        return report(items.length)
      }), { segments, input: { ProjectionExpression: "CustID, TnNum, TnValue" } })

    const scanProfiles = Scan.forEachPage(tables.profiles, (items) =>
      Effect.suspend(() => {
        profiles += items.length
        for (const item of items) {
          const decoded = Profile.fromItem(item["CustID"]?.S ?? "?", item)
          if (Result.isSuccess(decoded)) {
            const { custId, custStatus, totalTnValue } = decoded.success
            stored.set(custId, { totalTnValue, custStatus })
          } else cannotRead(item["CustID"]?.S, decoded.failure.message)
        }
        return report(items.length)
      }), { segments })

    yield* Effect.all([scanRows, scanProfiles], { concurrency: 2, discard: true })
    const candidates = new Set([...Drift.compare(stored, sums).flatMap((d) => isCustomerId(d.custId) ? [d.custId] : []), ...unreadable])
    return {
      rows,
      profiles,
      customers: new Set([...sums.keys(), ...stored.keys(), ...unreadable]).size + unkeyed.length,
      candidates: [...candidates].sort(),
      unkeyed
    } satisfies Scanned
  })
