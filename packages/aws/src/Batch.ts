/**
 * One stream batch: decode → quarantine the malformed → plan per customer → apply each customer once →
 * report what must be delivered again. Every decision is the core's; this file does the I/O.
 */
import * as BatchResult from "@dyna/core/BatchResult"
import * as Plan from "@dyna/core/Plan"
import * as StreamRecord from "@dyna/core/StreamRecord"
import type { Transaction } from "@dyna/core/Transaction"
import * as Verdict from "@dyna/core/Verdict"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import * as Metrics from "./Metrics.js"
import type * as ProfileReads from "./ProfileReads.js"
import { ProfileStore } from "./ProfileStore.js"
import { Quarantine, type Rejection } from "./Quarantine.js"

/** How many customers (and quarantine writes) are in flight at once within one batch. */
const CONCURRENCY = 10

/** What handling one part of a batch came to; the parts add up to the invocation's log line and metrics. */
interface Tally {
  readonly applied: number
  readonly duplicates: number
  readonly unguarded: number
  /** Records stored in the quarantine by this invocation. */
  readonly quarantined: number
  /** Records an earlier delivery had already stored there (counted once, where they were stored). */
  readonly alreadyQuarantined: number
  /** Records to deliver again, by sequence number (`undefined` when a record has none). */
  readonly failed: ReadonlyArray<string | undefined>
  /** Customers taken from Normal to Elite. */
  readonly promotions: number
  /** Conditional profile writes that lost to another writer and were tried again. */
  readonly racesLost: number
  /** Profile writes that took. */
  readonly profileWrites: number
  /** Write units DynamoDB reported for the profile, page and quarantine writes that took. */
  readonly writeUnits: number
}

const nothing: Tally = {
  applied: 0,
  duplicates: 0,
  unguarded: 0,
  quarantined: 0,
  alreadyQuarantined: 0,
  failed: [],
  promotions: 0,
  racesLost: 0,
  profileWrites: 0,
  writeUnits: 0
}

const add = (a: Tally, b: Tally): Tally => ({
  applied: a.applied + b.applied,
  duplicates: a.duplicates + b.duplicates,
  unguarded: a.unguarded + b.unguarded,
  quarantined: a.quarantined + b.quarantined,
  alreadyQuarantined: a.alreadyQuarantined + b.alreadyQuarantined,
  failed: [...a.failed, ...b.failed],
  promotions: a.promotions + b.promotions,
  racesLost: a.racesLost + b.racesLost,
  profileWrites: a.profileWrites + b.profileWrites,
  writeUnits: a.writeUnits + b.writeUnits
})

const total = (tallies: ReadonlyArray<Tally>): Tally => tallies.reduce(add, nothing)

/** At most 256 characters of a logged value: CloudWatch cuts a log event at 256 KB. */
const short = (value: string | undefined) =>
  value === undefined || value.length <= 256 ? value : `${value.slice(0, 256)}… (${value.length} characters)`

const decodeEvent = Schema.decodeUnknownResult(StreamRecord.Event)

/**
 * A decoded transaction that keeps the stream record it came from. The planner and the store hand back
 * the very transactions they are given, so one set aside later is stored as it arrived.
 */
interface Received extends Transaction {
  readonly record: unknown
}

/** The stream record a transaction was decoded from (every transaction of a batch is `Received`). */
const recordOf = (tx: Transaction): unknown => ("record" in tx ? tx.record : undefined)

/**
 * A decoded record as the quarantine keeps it: its transaction's keys, its stream and sequence number,
 * and why (the core's verdict), beside the record itself.
 */
const rejectionOf = (tx: Transaction, verdict: Verdict.Quarantine): readonly [Rejection, unknown] => {
  const record = recordOf(tx)
  return [{
    custId: tx.custId,
    tnNum: tx.tnNum,
    sequenceNumber: tx.sequenceNumber,
    streamArn: StreamRecord.identify(record).streamArn,
    field: verdict.field,
    reason: verdict.reason
  }, record]
}

/**
 * Handles one invocation's event. Fails only with `UnreportableFailure` (a record that must be retried
 * has no sequence number to name it by), which the handler turns into a failed invocation.
 */
export const handle = Effect.fnUntraced(function*(event: unknown) {
  const store = yield* ProfileStore
  const quarantine = yield* Quarantine
  const startedAt = yield* Clock.currentTimeMillis

  /**
   * Quarantines one record; if even that fails, the record is delivered again rather than lost. Counts
   * what was stored: a record an earlier delivery stored is `alreadyQuarantined`, not quarantined again.
   */
  const setAside = (rejection: Rejection, raw: unknown): Effect.Effect<Tally> => {
    const { sequenceNumber, eventId, custId, tnNum, field, reason } = rejection
    // A malformed record's ids are as long as its sender made them; the quarantine keeps them whole.
    const facts = {
      sequenceNumber: short(sequenceNumber),
      eventId: short(eventId),
      custId: short(custId),
      tnNum: short(tnNum),
      field,
      reason: short(reason)
    }
    return quarantine.put(rejection, raw).pipe(
      Effect.flatMap(({ outcome, writeUnits }) =>
        outcome === "quarantined"
          ? Effect.logWarning("record quarantined").pipe(Effect.annotateLogs(facts), Effect.as({ ...nothing, quarantined: 1, writeUnits }))
          : Effect.logInfo("record already quarantined").pipe(Effect.annotateLogs(facts), Effect.as({ ...nothing, alreadyQuarantined: 1, writeUnits }))
      ),
      Effect.catch((error) =>
        Effect.logError("quarantine write failed").pipe(
          Effect.annotateLogs({ ...facts, error: error.message }),
          Effect.as({ ...nothing, failed: [sequenceNumber] })
        )
      )
    )
  }

  const setAsideAll = (rejections: ReadonlyArray<readonly [Rejection, unknown]>) =>
    Effect.forEach(rejections, ([rejection, raw]) => setAside(rejection, raw), { concurrency: CONCURRENCY }).pipe(
      Effect.map(total)
    )

  /** Carries out the core's verdict on records: into the quarantine, or (after `onRetry`) delivered again. */
  const carryOut = (verdict: Verdict.Verdict, txs: ReadonlyArray<Transaction>, onRetry: Effect.Effect<void>): Effect.Effect<Tally> =>
    verdict._tag === "Quarantine"
      ? setAsideAll(txs.map((tx) => rejectionOf(tx, verdict)))
      : onRetry.pipe(Effect.as({ ...nothing, failed: txs.map((tx) => tx.sequenceNumber) }))

  const envelope = decodeEvent(event)
  if (Result.isFailure(envelope)) {
    // Nothing to apply and nothing to retry; keep the event itself where an operator can see it.
    const tally = yield* setAside({ field: "Records", reason: "Records: the event has no Records array" }, event)
    return yield* report(0, 0, tally, startedAt)
  }

  // Pure: decode each record alone, then plan the good ones.
  const changes: Array<StreamRecord.Change> = []
  const malformed: Array<readonly [Rejection, unknown]> = []
  for (const raw of envelope.success.Records) {
    const result = StreamRecord.decode(raw)
    if (Result.isFailure(result)) malformed.push([result.failure, raw])
    else if (result.success._tag === "Skipped") changes.push(result.success)
    else {
      const received: Received = { ...result.success.transaction, record: raw }
      changes.push({ _tag: "Insert", transaction: received })
    }
  }
  const plan = Plan.make(changes)

  const applyCustomer = (readAhead: ProfileReads.ReadAhead) => (customer: Plan.CustomerPlan): Effect.Effect<Tally> => {
    const records = [...customer.transactions, ...customer.repeats]
    return store.apply(customer, readAhead).pipe(
      Effect.matchEffect({
        onSuccess: (update) =>
          Effect.gen(function*() {
            for (const tx of update.unguarded) {
              yield* Effect.logWarning("applied unguarded: no TnNum or SequenceNumber to recognise a repeat by")
                .pipe(Effect.annotateLogs({ custId: tx.custId, tnValue: tx.tnValue }))
            }
            const overflowing = yield* Effect.forEach(
              update.overflowing,
              (tx) => carryOut(Verdict.of({ _tag: "Overflow", tnValue: tx.tnValue }), [tx], Effect.void),
              { concurrency: CONCURRENCY }
            ).pipe(Effect.map(total))
            return add(overflowing, {
              ...nothing,
              applied: update.applied.length,
              duplicates: update.duplicates.length + customer.repeats.length,
              unguarded: update.unguarded.length,
              promotions: update.promotion === undefined ? 0 : 1,
              ...update.writes
            })
          }),
        // A profile at fault stays at fault: the records wait in quarantine. A race or DynamoDB may pass.
        onFailure: (error) =>
          carryOut(
            Verdict.of(error),
            records,
            Effect.logError("customer update failed; records will be delivered again").pipe(
              Effect.annotateLogs({
                custId: customer.custId,
                tnNums: customer.transactions.map((tx) => tx.tnNum ?? null),
                error: error.message
              })
            )
          ).pipe(
            // A customer that kept losing its race lost every one of them: the metrics count each.
            Effect.map((tally) => (error._tag === "LostRace" ? { ...tally, racesLost: tally.racesLost + (error.racesLost ?? 0) } : tally))
          )
      })
    )
  }

  const [quarantined, applied] = yield* Effect.all([
    setAsideAll(malformed),
    store.readAhead(plan.customers.map((customer) => customer.custId)).pipe(
      Effect.flatMap((readAhead) => Effect.forEach(plan.customers, applyCustomer(readAhead), { concurrency: CONCURRENCY })),
      Effect.map(total)
    )
  ])
  return yield* report(envelope.success.Records.length, plan.skipped.length, add(quarantined, applied), startedAt)
})

/** The invocation's metrics: the tally, the records received and how long the batch took. */
const metricsOf = (records: number, tally: Tally, durationMillis: number): Metrics.Values => ({
  RecordsReceived: records,
  RecordsApplied: tally.applied,
  DuplicatesSkipped: tally.duplicates,
  Unguarded: tally.unguarded,
  Quarantined: tally.quarantined,
  Retried: tally.failed.length,
  Promotions: tally.promotions,
  RacesLost: tally.racesLost,
  ProfileWrites: tally.profileWrites,
  WriteUnits: tally.writeUnits,
  BatchDuration: durationMillis
})

/**
 * Writes the invocation's one summary line and its EMF line (CloudWatch's metrics), then turns its
 * failures into Lambda's response.
 */
const report = (records: number, skipped: number, tally: Tally, startedAt: number) =>
  Effect.gen(function*() {
    const durationMillis = (yield* Clock.currentTimeMillis) - startedAt
    yield* Effect.logInfo("batch processed").pipe(Effect.annotateLogs({
      records,
      applied: tally.applied,
      duplicates: tally.duplicates,
      skipped,
      quarantined: tally.quarantined,
      alreadyQuarantined: tally.alreadyQuarantined,
      failed: tally.failed.length,
      unguarded: tally.unguarded,
      promotions: tally.promotions,
      racesLost: tally.racesLost,
      profileWrites: tally.profileWrites,
      writeUnits: tally.writeUnits,
      durationMillis
    }))
    yield* Metrics.emit(metricsOf(records, tally, durationMillis))
  }).pipe(
    Effect.andThen(Effect.fromResult(BatchResult.fromFailures(tally.failed))),
    Effect.tapError((error) => Effect.logError("failing the whole batch").pipe(Effect.annotateLogs({ error: error.message })))
  )
