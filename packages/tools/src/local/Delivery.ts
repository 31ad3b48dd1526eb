/**
 * Delivering one batch of a shard to the function, as Lambda's event source mapping does: invoke with a
 * timeout, read the answer, checkpoint, redeliver, bisect, and give up to the on-failure file.
 */
import type { DynamoDBRecord } from "aws-lambda"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Ref from "effect/Ref"
import * as Result from "effect/Result"
import * as SubscriptionRef from "effect/SubscriptionRef"
import { randomUUID } from "node:crypto"
import type { DynamoDbError } from "@dyna/aws/DynamoDb"
import type { DynamoDbStreams } from "../clients/DynamoDbStreams.js"
import * as Retry from "@dyna/aws/Retry"
import * as FunctionResponse from "./FunctionResponse.js"
import type * as Checkpoints from "./Checkpoints.js"
import type * as MappingState from "./MappingState.js"
import * as RunnerProgress from "./RunnerProgress.js"
import * as OnFailure from "./OnFailure.js"
import * as StreamEvent from "./StreamEvent.js"

/** A record read and waiting for its batch. */
export interface Pending {
  readonly record: DynamoDBRecord
  readonly sequenceNumber: string
}

/**
 * Where a delivery reports records fully handled (by the function, or given up on), in order within
 * their lane; the shard's checkpoint moves once every lane is past them (see `Outstanding`).
 */
export type Handled = (entries: ReadonlyArray<Pending>) => Effect.Effect<void, Checkpoints.CheckpointError>

/** How many records at the head of a batch are older than the mapping allows (records arrive in order). */
const expiredHead = (entries: ReadonlyArray<Pending>, nowMillis: number, maximumAgeSeconds: number): number => {
  if (maximumAgeSeconds < 0) return 0
  const fresh = entries.findIndex((e) => {
    const created = StreamEvent.createdAtMillis(e.record)
    return created === undefined || nowMillis - created <= maximumAgeSeconds * 1000
  })
  return fresh < 0 ? entries.length : fresh
}

/** Records handed to the function together, with what their delivery has cost so far. */
export interface Batch {
  readonly entries: ReadonlyArray<Pending>
  /** Retries spent on these records (bisecting spends none). */
  readonly retries: number
  /** Invocations that included these records. */
  readonly invocations: number
  /** The last invocation: its id, and whether the function failed (threw or timed out). */
  readonly last: { readonly requestId: string; readonly functionError: boolean } | undefined
}

/** The batch failed and its (remaining) records are to be delivered again. */
interface Redeliver {
  readonly _tag: "Redeliver"
  readonly retries: number
}

type Settled = { readonly _tag: "Done" } | { readonly _tag: "Split"; readonly halves: readonly [Batch, Batch] }

const done: Settled = { _tag: "Done" }

/** Writes the records off to the on-failure file, then checkpoints past them: the shard moves on. */
const giveUp = (m: MappingState.MappingState, shardId: string, handled: Handled, batch: Batch, condition: OnFailure.Condition) =>
  Effect.gen(function*() {
    const first = batch.entries[0]
    const last = batch.entries.at(-1)
    if (first === undefined || last === undefined) return
    const now = yield* Clock.currentTimeMillis
    const firstCreated = first.record.dynamodb?.ApproximateCreationDateTime
    const lastCreated = last.record.dynamodb?.ApproximateCreationDateTime
    yield* OnFailure.append(m.onFailureFile, {
      requestContext: {
        requestId: batch.last?.requestId ?? randomUUID(),
        ...(m.functionArn === undefined ? {} : { functionArn: m.functionArn }),
        condition,
        approximateInvokeCount: batch.invocations
      },
      ...(batch.last === undefined ? {} : {
        responseContext: {
          statusCode: 200,
          executedVersion: "$LATEST",
          ...(batch.last.functionError ? { functionError: "Unhandled" } : {})
        }
      }),
      version: "1.0",
      timestamp: new Date(now).toISOString(),
      DDBStreamBatchInfo: {
        shardId,
        startSequenceNumber: first.sequenceNumber,
        endSequenceNumber: last.sequenceNumber,
        ...(firstCreated === undefined ? {} : { approximateArrivalOfFirstRecord: OnFailure.arrival(firstCreated) }),
        ...(lastCreated === undefined ? {} : { approximateArrivalOfLastRecord: OnFailure.arrival(lastCreated) }),
        batchSize: batch.entries.length,
        streamArn: m.streamArn
      },
      payload: StreamEvent.event(batch.entries.map((e) => e.record))
    })
    yield* handled(batch.entries)
    yield* SubscriptionRef.update(m.progress, (p) => ({ ...p, onFailure: p.onFailure + batch.entries.length }))
    yield* Effect.logError("records given up; written to the on-failure file").pipe(
      Effect.annotateLogs({
        condition,
        size: batch.entries.length,
        firstSequenceNumber: first.sequenceNumber,
        lastSequenceNumber: last.sequenceNumber,
        invocations: batch.invocations,
        file: m.onFailureFile
      })
    )
  })

/** How one invocation went. */
type Outcome = FunctionResponse.Verdict | { readonly _tag: "FunctionError"; readonly reason: string }

const outcomeLabel: Record<Outcome["_tag"], string> = {
  Success: "success",
  FailedFrom: "partial failure",
  BatchFailed: "invalid response",
  FunctionError: "function error"
}

/** Hands the batch to the function once and reads its answer; logs the batch. */
const invokeOnce = (m: MappingState.MappingState, shardId: string, batch: Batch, requestId: string) =>
  Effect.gen(function*() {
    const records = batch.entries.map((e) => e.record)
    const started = yield* Clock.currentTimeMillis
    const response = yield* Effect.tryPromise({
      try: () => m.invoke(StreamEvent.event(records)),
      catch: (cause) => (cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause))
    }).pipe(
      Effect.timeoutOrElse({
        duration: m.timeout,
        orElse: () => Effect.fail(`Task timed out after ${Duration.toMillis(m.timeout) / 1000} seconds`)
      }),
      Effect.result
    )
    const outcome: Outcome = Result.isFailure(response)
      ? { _tag: "FunctionError", reason: response.failure }
      : FunctionResponse.verdict(
        response.success,
        batch.entries.map((e) => e.sequenceNumber),
        m.settings.functionResponseTypes.includes("ReportBatchItemFailures")
      )
    const finished = yield* Clock.currentTimeMillis
    yield* SubscriptionRef.update(m.progress, (p) => ({ ...p, batches: p.batches + 1, records: p.records + records.length }))
    const facts = {
      shardId,
      size: records.length,
      firstSequenceNumber: batch.entries[0]?.sequenceNumber,
      lastSequenceNumber: batch.entries.at(-1)?.sequenceNumber,
      outcome: outcomeLabel[outcome._tag],
      durationMs: finished - started,
      retries: batch.retries,
      requestId,
      ...(outcome._tag === "FunctionError" || outcome._tag === "BatchFailed" ? { reason: outcome.reason } : {}),
      ...(outcome._tag === "FailedFrom" ? { failedFrom: batch.entries[outcome.index]?.sequenceNumber } : {})
    }
    yield* (outcome._tag === "Success" ? Effect.logInfo("batch delivered") : Effect.logWarning("batch failed")).pipe(
      Effect.annotateLogs(facts)
    )
    return { outcome, finished }
  })

/**
 * One attempt at the batch in `current`: records past the maximum age are given up first, the rest
 * invoked. Success checkpoints the batch; a partial failure checkpoints before the lowest failed record
 * and fails with `Redeliver` for it and everything after; a function error bisects (when set) or fails
 * with `Redeliver` for the whole batch.
 */
const attempt = (m: MappingState.MappingState, shardId: string, handled: Handled, current: Ref.Ref<Batch>) =>
  Effect.gen(function*() {
    const batch = yield* Ref.get(current)
    const expired = expiredHead(batch.entries, yield* Clock.currentTimeMillis, m.settings.maximumRecordAgeInSeconds)
    if (expired > 0) yield* giveUp(m, shardId, handled, { ...batch, entries: batch.entries.slice(0, expired) }, "RecordAgeExceeded")
    const live: Batch = { ...batch, entries: batch.entries.slice(expired) }
    const lastEntry = live.entries.at(-1)
    if (lastEntry === undefined) return done
    const requestId = randomUUID()
    // Once the function has answered, its answer is acted on (checkpointed) even if the run is being stopped.
    return yield* Effect.uninterruptibleMask((restore) =>
      restore(invokeOnce(m, shardId, live, requestId)).pipe(
        Effect.flatMap(({ outcome, finished }) =>
          Effect.gen(function*() {
            const invoked: Batch = {
              ...live,
              invocations: live.invocations + 1,
              last: { requestId, functionError: outcome._tag === "FunctionError" }
            }
            const redeliver = (entries: ReadonlyArray<Pending>) => {
              const again: Batch = { ...invoked, entries, retries: invoked.retries + 1 }
              return Ref.set(current, again).pipe(
                Effect.andThen(Effect.fail<Redeliver>({ _tag: "Redeliver", retries: again.retries }))
              )
            }
            switch (outcome._tag) {
              case "Success": {
                yield* handled(live.entries)
                const created = StreamEvent.createdAtMillis(lastEntry.record)
                yield* RunnerProgress.updateShard(m.progress, shardId, (p) => ({
                  ...p,
                  lastSuccessAt: finished,
                  iteratorAgeMillis: created === undefined ? undefined : finished - created
                }))
                return done
              }
              case "FailedFrom": {
                if (outcome.index > 0) yield* handled(live.entries.slice(0, outcome.index))
                return yield* redeliver(live.entries.slice(outcome.index))
              }
              case "FunctionError": {
                if (m.settings.bisectBatchOnFunctionError && live.entries.length > 1) {
                  const half = Math.ceil(live.entries.length / 2)
                  const halves = [
                    { ...invoked, entries: live.entries.slice(0, half) },
                    { ...invoked, entries: live.entries.slice(half) }
                  ] as const
                  return { _tag: "Split", halves } satisfies Settled
                }
                return yield* redeliver(live.entries)
              }
              case "BatchFailed":
                return yield* redeliver(live.entries)
            }
          })
        )
      )
    )
  })

const withinRetries = (maximumRetryAttempts: number, retries: number) =>
  maximumRetryAttempts < 0 || retries <= maximumRetryAttempts

/**
 * Delivers a batch until every record in it is handled: by the function, or given up on. Retries wait
 * on `Retry.redelivery` and are bounded by `maximumRetryAttempts`; the halves of a bisected batch are
 * delivered one after the other, in order, each keeping the retries already spent. What is handled is
 * reported to `handled` as it is.
 */
export const deliver = (m: MappingState.MappingState, shardId: string, handled: Handled, batch: Batch): Effect.Effect<
  void,
  Checkpoints.CheckpointError | OnFailure.OnFailureError | DynamoDbError,
  DynamoDbStreams
> =>
  Effect.gen(function*() {
    const current = yield* Ref.make(batch)
    const settled = yield* attempt(m, shardId, handled, current).pipe(
      Effect.retry({
        schedule: Retry.redelivery,
        while: (e) => e._tag === "Redeliver" && withinRetries(m.settings.maximumRetryAttempts, e.retries)
      }),
      Effect.catchTag("Redeliver", () =>
        Ref.get(current).pipe(
          Effect.flatMap((exhausted) => giveUp(m, shardId, handled, exhausted, "RetryAttemptsExhausted")),
          Effect.as(done)
        ))
    )
    if (settled._tag === "Split") {
      yield* deliver(m, shardId, handled, settled.halves[0])
      yield* deliver(m, shardId, handled, settled.halves[1])
    }
  })
