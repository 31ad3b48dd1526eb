/**
 * Replay: brings back the records Lambda gave up on (the on-failure destination) and those set aside
 * in the quarantine. Each record names a CustTransactions row; the row is read as it is now, and if it
 * can be counted its customer is recounted: the total becomes the sum of the customer's rows, through
 * `Recount.recount`, the handler's own conditional write. A record whose row still cannot be
 * counted stays in (or goes into) the quarantine with the reason; a replayed one leaves it.
 *
 * Why a recount and not `ProfileStore.apply`: apply counts a transaction unless its key is in the
 * profile's applied log, and the log forgets a key after 25 hours (the stream's reach). A given-up
 * batch can hold records that were applied already (Lambda redelivers everything after the lowest
 * reported failure, so the records after it were counted in an earlier attempt before the retries ran
 * out), and a quarantined record's row may have been counted since by a backfill once it was fixed. Replayed
 * through apply more than 25 hours later, those would be counted twice. A recount is exact at any age:
 * it reads the profile, then every row of the customer (strongly consistent), and writes the sum
 * conditioned on the profile's version, so a stream write in between makes it read again; each row's
 * key joins the applied log, so a record the stream still delivers later is a duplicate. It needs no
 * memory of earlier replays: run twice, the second run finds every total equal to its rows and writes
 * no total. Its one price is the backfill's: the total follows the rows, so an amount counted from an
 * event that has no row (a hand-made `pnpm invoke`) is not kept.
 */
import * as ProfileUpdate from "@dyna/core/ProfileUpdate"
import * as StreamRecord from "@dyna/core/StreamRecord"
import { CustomerId, IntegerText } from "@dyna/core/Transaction"
import { GetItemCommand } from "@aws-sdk/client-dynamodb"
import * as Issue from "@dyna/core/Issue"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import { DynamoDb } from "@dyna/aws/DynamoDb"
import * as LocalConfig from "../local/LocalConfig.js"
import * as OnFailure from "../local/OnFailure.js"
import { ProfileStore } from "@dyna/aws/ProfileStore"
import { Quarantine, type Rejection } from "@dyna/aws/Quarantine"
import { Recount } from "@dyna/aws/Recount"
import * as Retry from "@dyna/aws/Retry"
import { Tables } from "@dyna/aws/Tables"
import { TransactionStore } from "@dyna/aws/TransactionStore"
import * as Transactions from "../Transactions.js"

/** One given-up stream record and where it was read (a file and entry, an S3 object). */
export interface SourcedRecord {
  readonly source: string
  readonly record: unknown
}

/**
 * Where given-up records come from: the local runner's `on-failure.jsonl`, or (on AWS) the on-failure
 * bucket's reader (`ops/OnFailureRecords.ts`), which gives records in this same shape.
 */
export type Source<E = never, R = never> = Effect.Effect<ReadonlyArray<SourcedRecord>, E, R>

/** The records of every batch in the local runner's on-failure file, each named by its file and entry. */
export const onFailureFile = (file: string): Source<OnFailure.OnFailureError> =>
  OnFailure.list(file).pipe(
    Effect.map((entries) =>
      entries.flatMap((entry, i) => entry.payload.Records.map((record) => ({ source: `${file} entry ${i + 1}`, record })))
    )
  )

/** The local runner's on-failure file, where the local stack's configuration puts it (`$DYNA_HOME/runner/on-failure.jsonl`). */
export const localOnFailure: Source<OnFailure.OnFailureError> = Effect.gen(function*() {
  const settings = yield* LocalConfig.settings
  return yield* onFailureFile(settings.runner.onFailureFile)
})

/** What became of one record. */
export type Outcome =
  /** Its row is counted: its customer was recounted (or, in a dry run, would be). */
  | { readonly _tag: "Replayed"; readonly custId: CustomerId }
  /** Its row still cannot be counted: it stays in the quarantine (a given-up one goes there) with this reason. */
  | { readonly _tag: "Kept"; readonly field: string; readonly reason: string }
  /** A MODIFY or REMOVE: not a purchase, nothing to count. */
  | { readonly _tag: "Skipped"; readonly reason: string }
  /** A passing failure (throttling, a profile that kept changing): left where it was; run again. */
  | { readonly _tag: "Failed"; readonly reason: string }

/** One record, where it came from, what names it, and what became of it. */
export interface Line {
  /** `quarantine` or the given-up record's source. */
  readonly source: string
  /** The quarantine item's key, for a record read from the quarantine. */
  readonly recordId: string | undefined
  readonly sequenceNumber: string | undefined
  readonly custId: string | undefined
  readonly tnNum: string | undefined
  readonly outcome: Outcome
}

/** One recounted customer: the total before and after (equal when the rows were counted already). */
export interface Customer {
  readonly custId: string
  readonly before: number
  readonly after: number
  /** Whether the profile was (or, in a dry run, would be) written. */
  readonly written: boolean
}

export interface Report {
  readonly dryRun: boolean
  readonly lines: ReadonlyArray<Line>
  readonly customers: ReadonlyArray<Customer>
}

export interface Options<E = never, R = never> {
  /** Given-up records, from the on-failure destination. The quarantine is always read. */
  readonly sources: ReadonlyArray<Source<E, R>>
  /** Decide and report, write nothing. */
  readonly dryRun: boolean
}

/** Customers recounted at once. */
const CONCURRENCY = 8

/** A record to bring back, before its row is read. */
interface Candidate {
  readonly line: Omit<Line, "outcome">
  /** The given-up record itself (absent for a quarantined one, whose excerpt may be cut). */
  readonly raw?: unknown
}

const candidateOf = (source: string, raw: unknown): Candidate | Line => {
  const ids = StreamRecord.identify(raw)
  const decoded = StreamRecord.decode(raw)
  const line = { source, recordId: undefined, sequenceNumber: ids.sequenceNumber, custId: ids.custId, tnNum: ids.tnNum }
  if (Result.isSuccess(decoded) && decoded.success._tag === "Skipped") {
    return { ...line, outcome: { _tag: "Skipped", reason: `${decoded.success.eventName}: not a purchase` } }
  }
  // A malformed image is no matter: the row it names is read as it is now. A decoded one gives canonical keys.
  const tx = Result.isSuccess(decoded) && decoded.success._tag === "Insert" ? decoded.success.transaction : undefined
  return { line: { ...line, custId: tx?.custId ?? ids.custId, tnNum: tx?.tnNum ?? ids.tnNum }, raw }
}

const decodeCustomer = Schema.decodeUnknownResult(CustomerId)
const decodeTnNum = Schema.decodeUnknownResult(IntegerText)

const kept = (field: string, reason: string): Outcome => ({ _tag: "Kept", field, reason })

/** The row's keys, checked: a record that cannot name a row stays with the reason. */
const keysOf = (line: Candidate["line"]): Result.Result<{ readonly custId: CustomerId; readonly tnNum: string }, Outcome> => {
  if (line.custId === undefined) return Result.fail(kept("CustID", "CustID: is missing, so no CustTransactions row can be found"))
  if (line.tnNum === undefined) return Result.fail(kept("TnNum", "TnNum: is missing, so no CustTransactions row can be found"))
  const custId = decodeCustomer(line.custId)
  if (Result.isFailure(custId)) return Result.fail(kept("CustID", `CustID: ${Issue.first(custId.failure.issue).message}`))
  const tnNum = decodeTnNum(line.tnNum)
  if (Result.isFailure(tnNum)) return Result.fail(kept("TnNum", `TnNum: ${Issue.first(tnNum.failure.issue).message}, got ${JSON.stringify(line.tnNum.slice(0, 64))}`))
  return Result.succeed({ custId: custId.success, tnNum: tnNum.success })
}

/**
 * Replays every quarantined record and every record of `sources`. Fails only when a source or the
 * quarantine cannot be read, before anything is written.
 */
export const run = Effect.fn("Replay.run")(function*<E, R>(options: Options<E, R>) {
  const db = yield* DynamoDb
  const tables = yield* Tables
  const store = yield* ProfileStore
  const quarantine = yield* Quarantine
  const recounts = yield* Recount
  const transactions = yield* TransactionStore

  // Gather everything first: a source that cannot be read stops the run before any write.
  const quarantined = yield* quarantine.list()
  const given = (yield* Effect.forEach(options.sources, (source) => source)).flat()
  const gathered: ReadonlyArray<Candidate | Line> = [
    ...quarantined.map((r): Candidate => ({
      line: { source: "quarantine", recordId: r.recordId, sequenceNumber: r.sequenceNumber, custId: r.custId, tnNum: r.tnNum }
    })),
    ...given.map(({ source, record }) => candidateOf(source, record))
  ]
  const done = (c: Candidate | Line): c is Line => "outcome" in c

  /** The row a record names, read as it is now; a missing or malformed one is the reason it stays. */
  const rowOutcome = (candidate: Candidate) =>
    Effect.gen(function*() {
      const keys = keysOf(candidate.line)
      if (Result.isFailure(keys)) return keys.failure
      const { custId, tnNum } = keys.success
      const { Item } = yield* Retry.onTransient(db.call("GetItem", (c) =>
        c.send(new GetItemCommand({ TableName: tables.transactions, Key: { CustID: { S: custId }, TnNum: { N: tnNum } }, ConsistentRead: true }))))
      if (Item === undefined) return kept("CustTransactions", `CustTransactions has no row ${custId}/${tnNum}: nothing to count`)
      const row = Transactions.fromItem(Item)
      if (Result.isFailure(row)) return kept(`CustTransactions.${row.failure.field}`, row.failure.message)
      return { _tag: "Replayed", custId } satisfies Outcome
    }).pipe(Effect.catchTag("DynamoDbError", (e) => Effect.succeed<Outcome>({ _tag: "Failed", reason: e.message })))

  const checked: ReadonlyArray<Line> = yield* Effect.forEach(gathered, (c) =>
    done(c) ? Effect.succeed(c) : rowOutcome(c).pipe(Effect.map((outcome) => ({ ...c.line, outcome }))), { concurrency: CONCURRENCY })

  // Each customer with a countable row is recounted once, however many of its records came back.
  const custIds = [...new Set(checked.flatMap((l) => (l.outcome._tag === "Replayed" ? [l.outcome.custId] : [])))]
  const recounted = yield* Effect.forEach(custIds, (id) => {
    const custId: string = id
    const update = options.dryRun
      ? Effect.gen(function*() {
        // What recount would write, read and decided the same way, without the write.
        const current = yield* store.get(id)
        const rows = yield* transactions.ofCustomer(id)
        return ProfileUpdate.recount(id, current, rows, Math.floor((yield* Clock.currentTimeMillis) / 1000))
      })
      // What it wrote is the same kind of update; its write counts are the handler's metrics, not replay's.
      : recounts.recount(id).pipe(Effect.map((u): ProfileUpdate.ProfileUpdate => u))
    return update.pipe(
      Effect.map((u): readonly [string, Result.Result<Customer, Outcome>] => [custId, Result.succeed({
        custId,
        before: u.previous.totalTnValue,
        after: u.next.totalTnValue,
        written: ProfileUpdate.changes(u)
      })] as const),
      Effect.catch((error) => {
        const outcome: Outcome = error._tag === "DynamoDbError" || error._tag === "LostRace"
          ? { _tag: "Failed", reason: error.message }
          : kept(error._tag === "UnreadableRow" ? `CustTransactions.${error.field}` : error._tag === "UnreadableProfile" ? `CustProfile.${error.field}` : "CustProfile.AppliedTn", error.message)
        return Effect.succeed<readonly [string, Result.Result<Customer, Outcome>]>([custId, Result.fail(outcome)])
      })
    )
  }, { concurrency: CONCURRENCY })
  const byCustomer = new Map(recounted)
  const lines = checked.map((l): Line => {
    if (l.outcome._tag !== "Replayed") return l
    const result = byCustomer.get(l.outcome.custId)
    return result === undefined || Result.isSuccess(result) ? l : { ...l, outcome: result.failure }
  })

  if (!options.dryRun) {
    // The quarantine follows: a replayed record leaves it, one that stays says why now, a given-up one
    // that cannot be counted goes in (its key makes that once, however often replay runs).
    yield* Effect.forEach(lines, (l, i) => {
      // `lines` keeps the order of `gathered`.
      const candidate = gathered[i]
      const raw = candidate === undefined || done(candidate) ? undefined : candidate.raw
      if (l.recordId !== undefined) {
        return l.outcome._tag === "Replayed"
          ? quarantine.remove(l.recordId)
          : l.outcome._tag === "Kept"
          ? quarantine.restate(l.recordId, l.outcome.field, l.outcome.reason)
          : Effect.void
      }
      if (l.outcome._tag !== "Kept" || raw === undefined) return Effect.void
      const ids = StreamRecord.identify(raw)
      const rejection: Rejection = { ...ids, field: l.outcome.field, reason: l.outcome.reason }
      return quarantine.put(rejection, raw)
    }, { concurrency: CONCURRENCY, discard: true })
  }

  const customers = recounted.flatMap(([, r]) => (Result.isSuccess(r) ? [r.success] : []))
  return { dryRun: options.dryRun, lines, customers } satisfies Report
})

/** The counts a summary line gives. */
export const totals = (report: Report) => {
  const count = (tag: Outcome["_tag"]) => report.lines.filter((l) => l.outcome._tag === tag).length
  return {
    records: report.lines.length,
    fromQuarantine: report.lines.filter((l) => l.recordId !== undefined).length,
    replayed: count("Replayed"),
    kept: count("Kept"),
    skipped: count("Skipped"),
    failed: count("Failed"),
    customers: report.customers.length,
    changed: report.customers.filter((c) => c.before !== c.after).length,
    dollars: report.customers.reduce((sum, c) => sum + (c.after - c.before), 0)
  }
}
