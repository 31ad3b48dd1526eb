/**
 * Backfill: counts the CustTransactions rows the stream never delivered (written before it existed),
 * once, beside the running stream. A strongly consistent parallel Scan hands over each customer's rows
 * together (`CustomerScan`); each customer is recounted from them, as soon as the Scan is past them,
 * through `Recount.recountScanned`: the handler's own conditional write, not a second path.
 *
 * Why recounting from the Scan is exact beside the stream (without Querying the rows again after the
 * profile is read, as `Recount.recount` does): a Scan page read with ConsistentRead holds every
 * row of its key range that existed when it was read, and one CustID's rows are contiguous within a
 * segment, so a customer's run, once another customer follows it or the segment ends, holds every row
 * the customer had at T, when its first page was read. The profile is read after the run (the read-ahead
 * waits for it), at P > T. A row the stream counted before P was either written before T, and so is in
 * the run, or counted after T, and so is in the profile's applied log at P (kept 25 hours; all of it
 * inline when the profile has no applied pages). `recountScanned` uses the run only when the profile
 * has no pages and every logged key is in the run; otherwise it Queries, as before. Then the total
 * becomes the run's sum, which holds every row counted before P, and a row written after T that the
 * stream has not counted is in neither the run nor the log: the stream counts it when it comes, on top.
 * A row of the run not yet delivered joins the log and is a duplicate when it comes. A stream write
 * after P moves the version, so our write, conditioned on it, loses and reads again (same check).
 *
 * The profiles are read ahead, a hundred customers per BatchGetItem, and each customer is decided on its
 * read (`RecountBatch.plan`): a promotion (its long log's pages put first) shares one TransactWriteItems
 * with up to 49 other customers' promotions, each conditioned on its own version, instead of a transaction each
 * (DynamoDB serves few transactions a second, and charges the same units either way); any other
 * customer is one conditional UpdateItem, as before. A cancelled shared transaction writes nothing, and
 * the customers it names are recounted alone. `Recount.recountPlanned` writes a batch so; the Lambda handler
 * never recounts, so `Recount` is among the tools' services (`AppLayer.operations`), not in the handler's AppLayer.
 */
import * as ProfileUpdate from "@dyna/core/ProfileUpdate"
import * as RecountBatch from "@dyna/core/RecountBatch"
import { CustomerId } from "@dyna/core/Transaction"
import type * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Queue from "effect/Queue"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import type * as Pages from "@dyna/aws/Pages"
import type * as ProfileReads from "@dyna/aws/ProfileReads"
import { ProfileStore } from "@dyna/aws/ProfileStore"
import { Recount, type Recounted } from "@dyna/aws/Recount"
import { Tables } from "@dyna/aws/Tables"
import * as TransactionStore from "@dyna/aws/TransactionStore"
import * as CustomerScan from "./CustomerScan.js"

/** Scan segments read side by side when none is asked for. */
export const DEFAULT_SEGMENTS = 4

/** Writes in flight at once when none is asked for: one customer's, or a shared transaction's promotions. */
export const DEFAULT_CONCURRENCY = 16

/** Customers whose profiles are read in one BatchGetItem (its limit). */
const READ_AHEAD = 100

export interface Options {
  /** Scan segments read side by side (DynamoDB's `TotalSegments`); {@link DEFAULT_SEGMENTS} by default. */
  readonly segments?: number | undefined
  /**
   * Writes in flight at once (a customer alone, or up to 50 promotions sharing a transaction);
   * {@link DEFAULT_CONCURRENCY} by default.
   */
  readonly concurrency?: number | undefined
  /**
   * Called with rows as they are done: a customer's scanned rows once their recount has finished (or
   * skipped them). Adds up to `scanned`; a progress bar's feed, so it shows work done, not only read.
   */
  readonly onRows?: ((rows: number) => Effect.Effect<void>) | undefined
}

/** A customer left as it was, and why: a row or the profile cannot be read, or the profile never held still. */
export interface Skipped {
  readonly custId: string
  readonly reason: string
}

export interface Summary {
  /** Rows the Scan read. */
  readonly scanned: number
  /** Distinct customers among them, each recounted once. */
  readonly customers: number
  /** Rows counted by this run: their keys were not in the customer's applied log. */
  readonly applied: number
  /** Rows the recounts found counted already (by the stream or an earlier backfill). */
  readonly duplicates: number
  /** Rows left out because adding them would take a total past 2^53 − 1. */
  readonly overflowing: number
  /** Customers whose profile this run wrote. */
  readonly changed: number
  /** EliteQualified events this run wrote, each with the profile change that promoted the customer. */
  readonly promotions: number
  /** Customers left unchanged because they cannot be counted, by CustID. */
  readonly skipped: ReadonlyArray<Skipped>
  readonly elapsedMillis: number
}

/** Rows scanned per second over the whole run. */
export const rowsPerSecond = (summary: Summary): number =>
  summary.elapsedMillis > 0 ? summary.scanned / (summary.elapsedMillis / 1000) : summary.scanned

type Outcome =
  | { readonly _tag: "Recounted"; readonly custId: string; readonly update: ProfileUpdate.ProfileUpdate }
  | { readonly _tag: "Skipped"; readonly custId: string; readonly skipped: Skipped }

const skip = (custId: string, reason: string): Effect.Effect<Outcome> =>
  Effect.succeed({ _tag: "Skipped", custId, skipped: { custId, reason } })

/** One write of a batch: `RecountBatch`'s, or a customer whose rows could not be read, skipped without one. */
type Work = RecountBatch.Planned | { readonly _tag: "Unreadable"; readonly custId: string; readonly error: TransactionStore.UnreadableRow }

const isCustomerId = Schema.is(CustomerId)

/** A customer to recount: with the rows the Scan read, or, for a customer found again later, none (Queried). */
interface Found {
  readonly custId: CustomerId
  readonly rows: ReadonlyArray<Pages.Item> | undefined
}

const byCustId = (a: Skipped, b: Skipped) => (a.custId < b.custId ? -1 : a.custId > b.custId ? 1 : 0)

/**
 * Recounts every customer with a row in CustTransactions, each once, as the Scan finds them: the total
 * becomes the sum of their rows, as the consistent Scan read them before the profile (see the module's
 * comment for why that is exact), and every row's key joins the applied log, in one write conditioned on
 * the profile's version (see `ProfileUpdate.recount`). So a rerun, or a run beside the stream, counts
 * nothing twice: a row the stream counted is in the log, a row the stream delivers later finds itself
 * there, and a stream write in between makes ours re-read.
 *
 * A customer whose rows or profile cannot be read, whose profile would pass 400 KB all the same (its
 * own attributes, not the log: a log of any length moves to pages, see `AppliedPages`), or whose calls
 * stay throttled past their retries, is skipped and named in `skipped`; the others go on. Any other failure (DynamoDB unreachable, a table
 * missing, the Scan throttled past its retries) fails the run: what it wrote stays exact, and a rerun
 * finishes the job.
 *
 * Runs on the tools' services (`AppLayer.operations`, as every script does): `ProfileStore` reads the
 * profiles ahead and `Recount` writes them.
 */
export const run = Effect.fn("Backfill.run")(function*(options: Options = {}) {
  const tables = yield* Tables
  const store = yield* ProfileStore
  const recounts = yield* Recount
  const concurrency = Math.max(1, Math.floor(options.concurrency ?? DEFAULT_CONCURRENCY))
  const startedAt = yield* Clock.currentTimeMillis
  const seen = new Set<string>()
  const skipped: Array<Skipped> = []
  let scanned = 0
  let applied = 0
  let duplicates = 0
  let overflowing = 0
  let changed = 0
  let promotions = 0

  // Bounded, so the Scan waits for the recounts instead of running ahead of them; room for a read-ahead's worth.
  const found = yield* Queue.bounded<Found, Cause.Done>(Math.max(concurrency * 2, READ_AHEAD))

  // Scanned rows of the customers whose recount has not finished, reported to `onRows` when it does.
  const waiting = new Map<string, number>()
  const report = (rows: number) => (options.onRows === undefined || rows === 0 ? Effect.void : options.onRows(rows))

  const scan = CustomerScan.forEachRun(tables.transactions, (run) =>
    Effect.gen(function*() {
      scanned += run.items.length
      const custId = run.custId
      if (!isCustomerId(custId)) {
        for (const item of run.items) {
          skipped.push({ custId: custId ?? "", reason: `CustTransactions row ${item["TnNum"]?.N ?? "?"} has no CustID string` })
        }
        return yield* report(run.items.length)
      }
      waiting.set(custId, (waiting.get(custId) ?? 0) + run.items.length)
      if (seen.has(custId)) {
        // Found again: one CustID's rows are scanned together, so never expected; Query them all to be sure.
        return yield* Queue.offer(found, { custId, rows: undefined })
      }
      seen.add(custId)
      yield* Queue.offer(found, { custId, rows: run.items })
    }), options.segments ?? DEFAULT_SEGMENTS).pipe(Effect.ensuring(Queue.end(found)))

  /** Each customer of a read-ahead batch decided on its profile, and sorted into writes (`RecountBatch.plan`). */
  const plan = (batch: ReadonlyArray<Found>, readAhead: ProfileReads.ReadAhead) =>
    Effect.map(Clock.currentTimeMillis, (millis) => {
      const work: Array<Work> = []
      const customers: Array<RecountBatch.Scanned> = []
      for (const { custId, rows } of batch) {
        const decoded = rows === undefined ? Result.succeed(undefined) : TransactionStore.fromItems(rows)
        if (Result.isFailure(decoded)) work.push({ _tag: "Unreadable", custId, error: decoded.failure })
        else customers.push({ custId, rows: decoded.success })
      }
      return [...work, ...RecountBatch.plan(customers, readAhead, Math.floor(millis / 1000))].map((w) => [w, readAhead] as const)
    })

  const outcome = (custId: string, result: Recounted["result"]) =>
    Effect.fromResult(result).pipe(
      Effect.map((update): Outcome => ({ _tag: "Recounted", custId, update })),
      Effect.catchTags({
        UnreadableRow: (e) => skip(custId, e.message),
        UnreadableProfile: (e) => skip(custId, e.message),
        ProfileTooLarge: (e) => skip(custId, e.message),
        LostRace: () => skip(custId, `CustProfile ${custId} kept changing under concurrent writers; run backfill again`),
        // Throttled past its retries (a hot customer): the others go on, and a rerun counts this one.
        DynamoDbError: (e) => (e.kind === "Transient" ? skip(custId, `${e.message}; run backfill again`) : Effect.fail(e))
      })
    )

  const write = ([work, readAhead]: readonly [Work, ProfileReads.ReadAhead]) =>
    work._tag === "Unreadable"
      ? Effect.map(skip(work.custId, work.error.message), (o) => [o])
      : Effect.flatMap(recounts.recountPlanned(work, readAhead), (recounted) =>
        Effect.forEach(recounted, ({ custId, result }) => outcome(custId, result)))

  const tally = (outcome: Outcome) => {
    if (outcome._tag === "Skipped") {
      skipped.push(outcome.skipped)
      return
    }
    const { update } = outcome
    applied += update.applied.length
    duplicates += update.duplicates.length
    overflowing += update.overflowing.length
    if (ProfileUpdate.changes(update)) {
      changed++
      if (update.promotion !== undefined) promotions++
    }
  }

  const record = (outcome: Outcome) =>
    Effect.suspend(() => {
      const rows = waiting.get(outcome.custId) ?? 0
      waiting.delete(outcome.custId)
      tally(outcome)
      return report(rows)
    })

  const recountAll = Stream.fromQueue(found).pipe(
    // The profiles of up to 100 found customers in one BatchGetItem, each after its rows were scanned.
    Stream.groupedWithin(READ_AHEAD, "20 millis"),
    Stream.mapEffect((batch) => Effect.flatMap(store.readAhead(batch.map((f) => f.custId)), (readAhead) => plan(batch, readAhead))),
    // The next batch's profiles are read while this one's are written, so the writers never wait on a read.
    Stream.buffer({ capacity: 1 }),
    Stream.flattenIterable,
    Stream.mapEffect(write, { concurrency, unordered: true }),
    Stream.flattenIterable,
    Stream.runForEach(record)
  )

  yield* Effect.all([scan, recountAll], { concurrency: 2, discard: true })
  const elapsedMillis = (yield* Clock.currentTimeMillis) - startedAt
  return {
    scanned,
    customers: seen.size,
    applied,
    duplicates,
    overflowing,
    changed,
    promotions,
    skipped: skipped.sort(byCustId),
    elapsedMillis
  } satisfies Summary
})
