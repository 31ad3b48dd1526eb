/**
 * One stream batch: decode → quarantine the malformed → plan per customer → apply each customer once →
 * report what must be delivered again. Every decision is the core's; this file does the I/O.
 */
import * as BatchResult from "@dyna/core/BatchResult"
import * as Plan from "@dyna/core/Plan"
import * as StreamRecord from "@dyna/core/StreamRecord"
import type { Transaction } from "@dyna/core/Transaction"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import * as ProfileStore from "./ProfileStore.js"
import { Quarantine, type Rejection } from "./Quarantine.js"

/** How many customers (and quarantine writes) are in flight at once within one batch. */
const CONCURRENCY = 10

/** What handling one part of a batch came to; the parts add up to the invocation's log line. */
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
}

const nothing: Tally = { applied: 0, duplicates: 0, unguarded: 0, quarantined: 0, alreadyQuarantined: 0, failed: [] }

const add = (a: Tally, b: Tally): Tally => ({
  applied: a.applied + b.applied,
  duplicates: a.duplicates + b.duplicates,
  unguarded: a.unguarded + b.unguarded,
  quarantined: a.quarantined + b.quarantined,
  alreadyQuarantined: a.alreadyQuarantined + b.alreadyQuarantined,
  failed: [...a.failed, ...b.failed]
})

const total = (tallies: ReadonlyArray<Tally>): Tally => tallies.reduce(add, nothing)

/** At most 256 characters of a logged value: CloudWatch cuts a log event at 256 KB. */
const short = (value: string | undefined) =>
  value === undefined || value.length <= 256 ? value : `${value.slice(0, 256)}… (${value.length} characters)`

const decodeEvent = Schema.decodeUnknownResult(StreamRecord.Event)

/** What names a decoded record in the quarantine: its transaction's keys, and its stream and sequence number. */
const identity = (tx: Transaction, raw: unknown) =>
  ({ custId: tx.custId, tnNum: tx.tnNum, sequenceNumber: tx.sequenceNumber, streamArn: StreamRecord.identify(raw).streamArn })

/**
 * Handles one invocation's event. Fails only with `UnreportableFailure` (a record that must be retried
 * has no sequence number to name it by), which the handler turns into a failed invocation.
 */
export const handle = Effect.fn("Batch.handle")(function*(event: unknown) {
  const store = yield* ProfileStore.ProfileStore
  const quarantine = yield* Quarantine

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
      Effect.flatMap((outcome) =>
        outcome === "quarantined"
          ? Effect.logWarning("record quarantined").pipe(Effect.annotateLogs(facts), Effect.as({ ...nothing, quarantined: 1 }))
          : Effect.logInfo("record already quarantined").pipe(Effect.annotateLogs(facts), Effect.as({ ...nothing, alreadyQuarantined: 1 }))
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

  const envelope = decodeEvent(event)
  if (Result.isFailure(envelope)) {
    // Nothing to apply and nothing to retry; keep the event itself where an operator can see it.
    const tally = yield* setAside({ field: "Records", reason: "Records: the event has no Records array" }, event)
    return yield* report(0, 0, tally)
  }

  // Pure: decode each record alone, then plan the good ones.
  const rawOf = new Map<Transaction, unknown>()
  const changes: Array<StreamRecord.Change> = []
  const malformed: Array<readonly [Rejection, unknown]> = []
  for (const raw of envelope.success.Records) {
    const result = StreamRecord.decode(raw)
    if (Result.isFailure(result)) malformed.push([result.failure, raw])
    else {
      changes.push(result.success)
      // The planner hands back these same Transaction objects, so each can find its raw record again.
      if (result.success._tag === "Insert") rawOf.set(result.success.transaction, raw)
    }
  }
  const plan = Plan.make(changes)

  const applyCustomer = (readAhead: ProfileStore.ReadAhead) => (customer: Plan.CustomerPlan): Effect.Effect<Tally> => {
    const records = [...customer.transactions, ...customer.repeats]
    return store.apply(customer, readAhead).pipe(
      Effect.matchEffect({
        onSuccess: (update) =>
          Effect.gen(function*() {
            for (const tx of update.unguarded) {
              yield* Effect.logWarning("applied unguarded: no TnNum or SequenceNumber to recognise a repeat by")
                .pipe(Effect.annotateLogs({ custId: tx.custId, tnValue: tx.tnValue }))
            }
            const overflowing = yield* setAsideAll(update.overflowing.map((tx) => [{
              ...identity(tx, rawOf.get(tx)),
              field: "TnValue",
              reason: `TnValue: ${tx.tnValue} would take TotalTnValue past 2^53 - 1, where sums stop being exact`
            }, rawOf.get(tx)]))
            return add(overflowing, {
              ...nothing,
              applied: update.applied.length,
              duplicates: update.duplicates.length + customer.repeats.length,
              unguarded: update.unguarded.length
            })
          }),
        onFailure: (error) =>
          error._tag === "UnreadableProfile" || error._tag === "ProfileTooLarge"
            // The profile, not the record, is at fault; no retry mends it, so the records wait in quarantine.
            ? setAsideAll(records.map((tx) => [
              { ...identity(tx, rawOf.get(tx)), field: `CustProfile.${error._tag === "UnreadableProfile" ? error.field : "AppliedTn"}`, reason: error.message },
              rawOf.get(tx)
            ]))
            : Effect.logError("customer update failed; records will be delivered again").pipe(
              Effect.annotateLogs({
                custId: customer.custId,
                tnNums: customer.transactions.map((tx) => tx.tnNum ?? null),
                error: error.message
              }),
              Effect.as({ ...nothing, failed: records.map((tx) => tx.sequenceNumber) })
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
  return yield* report(envelope.success.Records.length, plan.skipped.length, add(quarantined, applied))
})

/** Writes the invocation's one summary line and turns its failures into Lambda's response. */
const report = (records: number, skipped: number, tally: Tally) =>
  Effect.logInfo("batch processed").pipe(
    Effect.annotateLogs({
      records,
      applied: tally.applied,
      duplicates: tally.duplicates,
      skipped,
      quarantined: tally.quarantined,
      alreadyQuarantined: tally.alreadyQuarantined,
      failed: tally.failed.length,
      unguarded: tally.unguarded
    }),
    Effect.andThen(Effect.fromResult(BatchResult.fromFailures(tally.failed))),
    Effect.tapError((error) => Effect.logError("failing the whole batch").pipe(Effect.annotateLogs({ error: error.message })))
  )
