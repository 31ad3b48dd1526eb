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
import { ProfileStore } from "./ProfileStore.js"
import { Quarantine, type Rejection } from "./Quarantine.js"

/** How many customers (and quarantine writes) are in flight at once within one batch. */
const CONCURRENCY = 10

/** The counts in the one log line each invocation writes. */
export interface Summary {
  readonly records: number
  readonly applied: number
  readonly duplicates: number
  readonly skipped: number
  readonly quarantined: number
  readonly failed: number
  readonly unguarded: number
}

interface Failed {
  readonly sequenceNumber: string | undefined
}

const decodeEvent = Schema.decodeUnknownResult(StreamRecord.Event)

const txFields = (tx: Transaction) => ({ custId: tx.custId, tnNum: tx.tnNum, sequenceNumber: tx.sequenceNumber })

/**
 * Handles one invocation's event. Fails only with `UnreportableFailure` (a record that must be retried
 * has no sequence number to name it by), which the handler turns into a failed invocation.
 */
export const handle = Effect.fn("Batch.handle")(function*(event: unknown) {
  const store = yield* ProfileStore
  const quarantine = yield* Quarantine
  const envelope = decodeEvent(event)
  const records = Result.isSuccess(envelope) ? envelope.success.Records : []
  const failed: Array<Failed> = []
  let quarantined = 0

  /** Quarantines one record; if even that fails, the record is delivered again rather than lost. */
  const setAside = (rejection: Rejection, raw: unknown) => {
    const { sequenceNumber, eventId, custId, tnNum, field, reason } = rejection
    const facts = { sequenceNumber, eventId, custId, tnNum, field, reason }
    return quarantine.put(rejection, raw).pipe(
      Effect.flatMap(() => {
        quarantined++
        return Effect.logWarning("record quarantined").pipe(Effect.annotateLogs(facts))
      }),
      Effect.catch((error) => {
        failed.push({ sequenceNumber })
        return Effect.logError("quarantine write failed").pipe(Effect.annotateLogs({ ...facts, error: error.message }))
      })
    )
  }

  if (Result.isFailure(envelope)) {
    // Nothing to apply and nothing to retry; keep the event itself where an operator can see it.
    yield* setAside({ field: "Records", reason: "Records: the event has no Records array" }, event)
  }

  // Pure: decode each record alone, then plan the good ones.
  const decoded = records.map((raw) => ({ raw, result: StreamRecord.decode(raw) }))
  // The planner hands back the same Transaction objects, so each can find its raw record again.
  const rawOf = new Map<Transaction, unknown>()
  const changes: Array<StreamRecord.Change> = []
  const malformed: Array<{ raw: unknown; error: StreamRecord.MalformedRecord }> = []
  for (const { raw, result } of decoded) {
    if (Result.isFailure(result)) malformed.push({ raw, error: result.failure })
    else {
      changes.push(result.success)
      if (result.success._tag === "Insert") rawOf.set(result.success.transaction, raw)
    }
  }
  const plan = Plan.make(changes)

  let applied = 0
  let duplicates = 0
  let unguarded = 0
  yield* Effect.forEach(malformed, ({ error, raw }) => setAside(error, raw), { concurrency: CONCURRENCY, discard: true })
  yield* Effect.forEach(plan.customers, (customer) =>
    store.apply(customer).pipe(
      Effect.matchEffect({
        onSuccess: (update) =>
          Effect.gen(function*() {
            applied += update.applied.length
            duplicates += update.duplicates.length + customer.repeats.length
            unguarded += update.unguarded.length
            for (const tx of update.unguarded) {
              yield* Effect.logWarning("applied unguarded: no TnNum or SequenceNumber to recognise a repeat by")
                .pipe(Effect.annotateLogs({ custId: tx.custId, tnValue: tx.tnValue }))
            }
            yield* Effect.forEach(update.overflowing, (tx) =>
              setAside({
                ...txFields(tx),
                field: "TnValue",
                reason: `TnValue: ${tx.tnValue} would take TotalTnValue past 2^53 - 1, where sums stop being exact`
              }, rawOf.get(tx)), { discard: true })
          }),
        onFailure: (error) =>
          error._tag === "UnreadableProfile"
            // The profile, not the record, is broken; no retry mends it, so the records wait in quarantine.
            ? Effect.forEach([...customer.transactions, ...customer.repeats], (tx) =>
              setAside({ ...txFields(tx), field: `CustProfile.${error.field}`, reason: error.message }, rawOf.get(tx)), {
              discard: true
            })
            : Effect.gen(function*() {
              for (const tx of [...customer.transactions, ...customer.repeats]) failed.push(tx)
              yield* Effect.logError("customer update failed; records will be delivered again").pipe(
                Effect.annotateLogs({
                  custId: customer.custId,
                  tnNums: customer.transactions.map((tx) => tx.tnNum ?? null),
                  error: error.message
                })
              )
            })
      })
    ), { concurrency: CONCURRENCY, discard: true })

  const summary: Summary = {
    records: records.length,
    applied,
    duplicates,
    skipped: plan.skipped.length,
    quarantined,
    failed: failed.length,
    unguarded
  }
  yield* Effect.logInfo("batch processed").pipe(Effect.annotateLogs({ ...summary }))
  return yield* Effect.fromResult(BatchResult.fromFailures(failed)).pipe(
    Effect.tapError((error) => Effect.logError("failing the whole batch").pipe(Effect.annotateLogs({ error: error.message })))
  )
})
