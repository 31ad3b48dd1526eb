/**
 * The local stand-in for Lambda's event source mapping on a DynamoDB stream: reads every shard (a child
 * after its parent), filters, batches and invokes the function, then checkpoints, redelivers, bisects
 * and gives up as Lambda does, obeying the mapping's settings (`Deployment.MappingSettings`).
 */
import {
  DescribeStreamCommand,
  type DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type ShardIteratorType
} from "@aws-sdk/client-dynamodb-streams"
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from "aws-lambda"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as FiberSet from "effect/FiberSet"
import * as Queue from "effect/Queue"
import * as Ref from "effect/Ref"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import * as SubscriptionRef from "effect/SubscriptionRef"
import * as SynchronizedRef from "effect/SynchronizedRef"
import { randomUUID } from "node:crypto"
import * as AwsCall from "../AwsCall.js"
import * as Deployment from "../Deployment.js"
import type { DynamoDbError } from "../DynamoDb.js"
import { DynamoDbStreams } from "../DynamoDbStreams.js"
import * as Retry from "../Retry.js"
import * as BatchResponse from "./BatchResponse.js"
import * as Checkpoints from "./Checkpoints.js"
import * as Filter from "./Filter.js"
import * as OnFailure from "./OnFailure.js"
import * as Shards from "./Shards.js"
import * as StreamEvent from "./StreamEvent.js"

/** How long a shard that returned no records waits before it is read again. */
export const POLL_INTERVAL_MILLIS = 100

/** How often the stream is described again to find new shards (and at once when a shard finishes). */
export const SHARD_DISCOVERY_INTERVAL_MILLIS = 10_000

/** The most records one `GetRecords` call returns. */
const GET_RECORDS_LIMIT = 1_000

/** A mapping setting the runner cannot honour as Lambda would. */
export class UnsupportedSetting extends Schema.TaggedError<UnsupportedSetting>()("UnsupportedSetting", {
  setting: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `mapping setting ${this.setting} cannot be used by the local runner: ${this.reason}`
  }
}

/** How far the runner has got on one shard. */
export interface ShardProgress {
  /** The last sequence number fully handled (delivered, filtered out or given up), as checkpointed. */
  readonly checkpoint: string | undefined
  /** Closed and read to its end. */
  readonly finished: boolean
  /** The last read found nothing new and nothing waits to be delivered. */
  readonly caughtUp: boolean
  /** Records read and waiting for their batch. */
  readonly pending: number
  /** When the function last handled a batch of this shard without failure (epoch milliseconds). */
  readonly lastSuccessAt: number | undefined
  /** How old that batch's last record was when it was handled, like Lambda's `IteratorAge` metric. */
  readonly iteratorAgeMillis: number | undefined
}

/** What the runner has done so far, for tests, the hosting process's status file and `pnpm verify`. */
export interface Progress {
  readonly shards: Readonly<Record<string, ShardProgress>>
  /** Invocations of the function. */
  readonly batches: number
  /** Records handed to the function, counting each redelivery. */
  readonly records: number
  /** Records given up on and written to the on-failure file. */
  readonly onFailure: number
}

/** Nothing done yet. */
export const initialProgress: Progress = { shards: {}, batches: 0, records: 0, onFailure: 0 }

/** A fresh progress reference to pass to {@link run} and watch. */
export const makeProgress: Effect.Effect<SubscriptionRef.SubscriptionRef<Progress>> = SubscriptionRef.make(initialProgress)

/** What {@link run} serves: one mapping from a stream to a function. */
export interface Options {
  readonly streamArn: string
  /** The event source mapping's settings, as deployed to AWS (`Deployment.mapping`). */
  readonly settings: Deployment.MappingSettings
  /** The function; a rejected promise is a function error. */
  readonly invoke: (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse | void>
  /** Where each shard's checkpoint is kept (see `Checkpoints`). */
  readonly checkpointFile: string
  /** Where records given up on are appended (see `OnFailure`). */
  readonly onFailureFile: string
  /** The wait before reading an idle shard again; {@link POLL_INTERVAL_MILLIS} by default. */
  readonly pollInterval?: Duration.Input | undefined
  /** How long an invocation may take before it counts as a function error; the function's timeout by default. */
  readonly functionTimeout?: Duration.Input | undefined
  /** Named in on-failure records, as Lambda names the function. */
  readonly functionArn?: string | undefined
  /** Where the runner reports its progress (see {@link makeProgress}). */
  readonly progress?: SubscriptionRef.SubscriptionRef<Progress> | undefined
}

/** Why a run stops on its own (it never ends otherwise). */
export type RunError =
  | Filter.FilterError
  | UnsupportedSetting
  | Checkpoints.CheckpointError
  | OnFailure.OnFailureError
  | DynamoDbError

/** Checks the settings against what Lambda accepts for a DynamoDB stream, and what the runner implements. */
export const checkSettings = (s: Deployment.MappingSettings): Result.Result<Deployment.MappingSettings, UnsupportedSetting> => {
  const bad = (setting: string, reason: string) => Result.fail(new UnsupportedSetting({ setting, reason }))
  const isInt = (n: number, min: number, max: number) => Number.isInteger(n) && n >= min && n <= max
  if (s.parallelizationFactor !== 1) {
    return bad("parallelizationFactor", `${s.parallelizationFactor}: only 1 (one batch per shard at a time) is implemented`)
  }
  if (!isInt(s.batchSize, 1, 10_000)) return bad("batchSize", `${s.batchSize}: must be an integer from 1 to 10000`)
  if (!(s.maximumBatchingWindowInSeconds >= 0 && s.maximumBatchingWindowInSeconds <= 300)) {
    return bad("maximumBatchingWindowInSeconds", `${s.maximumBatchingWindowInSeconds}: must be from 0 to 300`)
  }
  if (!isInt(s.maximumRetryAttempts, -1, 10_000)) {
    return bad("maximumRetryAttempts", `${s.maximumRetryAttempts}: must be -1 (until the record expires) or 0 to 10000`)
  }
  if (!isInt(s.maximumRecordAgeInSeconds, -1, 604_800)) {
    return bad("maximumRecordAgeInSeconds", `${s.maximumRecordAgeInSeconds}: must be -1 (no limit) or 0 to 604800`)
  }
  return Result.succeed(s)
}

// ---------------------------------------------------------------------------------------------------
// Pure parts: reading a page into what waits for delivery, and when a batch is due.

/** A record read and waiting for its batch. */
interface Pending {
  readonly record: DynamoDBRecord
  readonly sequenceNumber: string
  /** The last sequence number this record stands for: itself, and the filtered-out records read after it. */
  readonly through: string
}

/** One page of records added to what waits: matching records join it, the others are passed over. */
const gather = (
  pending: ReadonlyArray<Pending>,
  records: ReadonlyArray<DynamoDBRecord>,
  filter: Filter.Filter
): { readonly pending: ReadonlyArray<Pending>; readonly skippedTo: string | undefined } => {
  const next = [...pending]
  let skippedTo: string | undefined
  for (const record of records) {
    // GetRecords always gives one; a record without it could never be checkpointed past anyway.
    const sequenceNumber = record.dynamodb?.SequenceNumber
    if (sequenceNumber === undefined) continue
    const last = next.at(-1)
    if (Filter.matches(filter, record)) next.push({ record, sequenceNumber, through: sequenceNumber })
    else if (last !== undefined) next[next.length - 1] = { ...last, through: sequenceNumber }
    else skippedTo = sequenceNumber
  }
  return { pending: next, skippedTo }
}

/** How many waiting records to deliver now: a full batch, or whatever waits once the window has passed. */
const due = (pending: number, settings: Deployment.MappingSettings, ended: boolean, waitedMillis: number): number => {
  if (pending >= settings.batchSize) return settings.batchSize
  if (pending > 0 && (ended || waitedMillis >= settings.maximumBatchingWindowInSeconds * 1000)) return pending
  return 0
}

/** How many records at the head of a batch are older than the mapping allows (records arrive in order). */
const expiredHead = (entries: ReadonlyArray<Pending>, nowMillis: number, maximumAgeSeconds: number): number => {
  if (maximumAgeSeconds < 0) return 0
  const fresh = entries.findIndex((e) => {
    const created = StreamEvent.createdAtMillis(e.record)
    return created === undefined || nowMillis - created <= maximumAgeSeconds * 1000
  })
  return fresh < 0 ? entries.length : fresh
}

// ---------------------------------------------------------------------------------------------------
// The runner.

/** Records handed to the function together, with what their delivery has cost so far. */
interface Batch {
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

/** Everything a run shares between its shards. */
interface Mapping {
  readonly options: Options
  readonly settings: Deployment.MappingSettings
  readonly filter: Filter.Filter
  readonly checkpoints: SynchronizedRef.SynchronizedRef<Checkpoints.Checkpoints>
  readonly progress: SubscriptionRef.SubscriptionRef<Progress>
  readonly pollMillis: number
  readonly timeout: Duration.Input
  /** Wakes the shard discovery (a shard finished: its children may start). */
  readonly wake: Queue.Queue<void>
}

const noProgress: ShardProgress = {
  checkpoint: undefined,
  finished: false,
  caughtUp: false,
  pending: 0,
  lastSuccessAt: undefined,
  iteratorAgeMillis: undefined
}

const updateShard = (m: Mapping, shardId: string, f: (p: ShardProgress) => ShardProgress) =>
  SubscriptionRef.update(m.progress, (p) => ({ ...p, shards: { ...p.shards, [shardId]: f(p.shards[shardId] ?? noProgress) } }))

const causeName = (error: DynamoDbError) => AwsCall.reported(error.cause).name

/** Throttling (`LimitExceededException` on the streams API), 5xx, or DynamoDB unreachable for now. */
const isRetryable = (error: DynamoDbError) => Retry.isTransient(error) || causeName(error) === "LimitExceededException"

/** One streams call, retried for as long as it fails for a passing reason (as the mapping keeps polling). */
const streamCall = <A>(operation: string, f: (client: DynamoDBStreamsClient) => Promise<A>) =>
  Effect.gen(function*() {
    const streams = yield* DynamoDbStreams
    return yield* streams.call(operation, f)
  }).pipe(
    Effect.tapError((error) =>
      isRetryable(error)
        ? Effect.logWarning("stream read failed; trying again").pipe(Effect.annotateLogs({ operation, error: error.message }))
        : Effect.void
    ),
    Effect.retry({ schedule: Retry.redelivery, while: isRetryable })
  )

/** Every shard of the stream, following `LastEvaluatedShardId` from page to page. */
const describeShards = (streamArn: string, from?: string): Effect.Effect<ReadonlyArray<Shards.Shard>, DynamoDbError, DynamoDbStreams> =>
  streamCall("DescribeStream", (c) =>
    c.send(new DescribeStreamCommand({ StreamArn: streamArn, ...(from === undefined ? {} : { ExclusiveStartShardId: from }) }))).pipe(
      Effect.flatMap((out) => {
        const shards = (out.StreamDescription?.Shards ?? []).flatMap((s) =>
          s.ShardId === undefined ? [] : [{ shardId: s.ShardId, parentShardId: s.ParentShardId }]
        )
        const next = out.StreamDescription?.LastEvaluatedShardId
        return next === undefined ? Effect.succeed(shards) : describeShards(streamArn, next).pipe(Effect.map((rest) => [...shards, ...rest]))
      })
    )

/** Moves the shard's checkpoint forward and writes it down before anything else happens. */
const checkpointAt = (m: Mapping, shardId: string, sequenceNumber: string) =>
  SynchronizedRef.updateEffect(m.checkpoints, (before) => {
    const after = Checkpoints.advance(before, m.options.streamArn, shardId, sequenceNumber)
    return after === before ? Effect.succeed(before) : Checkpoints.save(m.options.checkpointFile, after).pipe(Effect.as(after))
  }).pipe(
    Effect.andThen(SynchronizedRef.get(m.checkpoints)),
    Effect.flatMap((cp) =>
      updateShard(m, shardId, (p) => ({ ...p, checkpoint: Checkpoints.get(cp, m.options.streamArn, shardId)?.sequenceNumber }))
    )
  )

/** Writes the records off to the on-failure file, then checkpoints past them: the shard moves on. */
const giveUp = (m: Mapping, shardId: string, batch: Batch, condition: OnFailure.Condition) =>
  Effect.gen(function*() {
    const first = batch.entries[0]
    const last = batch.entries.at(-1)
    if (first === undefined || last === undefined) return
    const now = yield* Clock.currentTimeMillis
    const firstCreated = first.record.dynamodb?.ApproximateCreationDateTime
    const lastCreated = last.record.dynamodb?.ApproximateCreationDateTime
    yield* OnFailure.append(m.options.onFailureFile, {
      requestContext: {
        requestId: batch.last?.requestId ?? randomUUID(),
        ...(m.options.functionArn === undefined ? {} : { functionArn: m.options.functionArn }),
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
        streamArn: m.options.streamArn
      },
      payload: StreamEvent.event(batch.entries.map((e) => e.record))
    })
    yield* checkpointAt(m, shardId, last.through)
    yield* SubscriptionRef.update(m.progress, (p) => ({ ...p, onFailure: p.onFailure + batch.entries.length }))
    yield* Effect.logError("records given up; written to the on-failure file").pipe(
      Effect.annotateLogs({
        condition,
        size: batch.entries.length,
        firstSequenceNumber: first.sequenceNumber,
        lastSequenceNumber: last.sequenceNumber,
        invocations: batch.invocations,
        file: m.options.onFailureFile
      })
    )
  })

/** How one invocation went. */
type Outcome = BatchResponse.Verdict | { readonly _tag: "FunctionError"; readonly reason: string }

const outcomeLabel: Record<Outcome["_tag"], string> = {
  Success: "success",
  FailedFrom: "partial failure",
  BatchFailed: "invalid response",
  FunctionError: "function error"
}

/** Hands the batch to the function once and reads its answer; logs the batch. */
const invokeOnce = (m: Mapping, shardId: string, batch: Batch, requestId: string) =>
  Effect.gen(function*() {
    const records = batch.entries.map((e) => e.record)
    const started = yield* Clock.currentTimeMillis
    const response = yield* Effect.tryPromise({
      try: () => m.options.invoke(StreamEvent.event(records)),
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
      : BatchResponse.verdict(
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
const attempt = (m: Mapping, shardId: string, current: Ref.Ref<Batch>) =>
  Effect.gen(function*() {
    const batch = yield* Ref.get(current)
    const expired = expiredHead(batch.entries, yield* Clock.currentTimeMillis, m.settings.maximumRecordAgeInSeconds)
    if (expired > 0) yield* giveUp(m, shardId, { ...batch, entries: batch.entries.slice(0, expired) }, "RecordAgeExceeded")
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
                yield* checkpointAt(m, shardId, lastEntry.through)
                const created = StreamEvent.createdAtMillis(lastEntry.record)
                yield* updateShard(m, shardId, (p) => ({
                  ...p,
                  lastSuccessAt: finished,
                  iteratorAgeMillis: created === undefined ? undefined : finished - created
                }))
                return done
              }
              case "FailedFrom": {
                const before = live.entries[outcome.index - 1]
                if (before !== undefined) yield* checkpointAt(m, shardId, before.through)
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
 * delivered one after the other, in order, each keeping the retries already spent.
 */
const deliver = (m: Mapping, shardId: string, batch: Batch): Effect.Effect<void, RunError, DynamoDbStreams> =>
  Effect.gen(function*() {
    const current = yield* Ref.make(batch)
    const settled = yield* attempt(m, shardId, current).pipe(
      Effect.retry({
        schedule: Retry.redelivery,
        while: (e) => e._tag === "Redeliver" && withinRetries(m.settings.maximumRetryAttempts, e.retries)
      }),
      Effect.catchTag("Redeliver", () =>
        Ref.get(current).pipe(
          Effect.flatMap((exhausted) => giveUp(m, shardId, exhausted, "RetryAttemptsExhausted")),
          Effect.as(done)
        ))
    )
    if (settled._tag === "Split") {
      yield* deliver(m, shardId, settled.halves[0])
      yield* deliver(m, shardId, settled.halves[1])
    }
  })

/** Where a shard's reader stands between two steps. */
interface Reader {
  /** The iterator for the next `GetRecords`; `undefined` when one must be asked for. */
  readonly iterator: string | undefined
  /** The last sequence number read (handled or waiting). */
  readonly lastRead: string | undefined
  readonly pending: ReadonlyArray<Pending>
  /** The shard is closed and every record in it has been read. */
  readonly ended: boolean
  /** When the current batch started gathering (the last delivery, or the start). */
  readonly gatheringSince: number
}

type Page = { readonly _tag: "Records"; readonly records: ReadonlyArray<DynamoDBRecord>; readonly next: string | undefined } | {
  readonly _tag: "Expired"
} | { readonly _tag: "Gone" }

/** An iterator just after `after`, or at `start` when nothing was handled yet. */
const iteratorFor = (m: Mapping, shardId: string, after: string | undefined, start: ShardIteratorType) => {
  const get = (type: ShardIteratorType, sequenceNumber?: string) =>
    streamCall("GetShardIterator", (c) =>
      c.send(
        new GetShardIteratorCommand({
          StreamArn: m.options.streamArn,
          ShardId: shardId,
          ShardIteratorType: type,
          ...(sequenceNumber === undefined ? {} : { SequenceNumber: sequenceNumber })
        })
      )).pipe(Effect.map((out) => out.ShardIterator))
  return (after === undefined ? get(start) : get("AFTER_SEQUENCE_NUMBER", after)).pipe(
    Effect.catchIf(
      (e) => after !== undefined && causeName(e) === "TrimmedDataAccessException",
      () =>
        Effect.logWarning("checkpoint is older than the stream keeps; reading from the oldest record").pipe(
          Effect.annotateLogs({ checkpoint: after }),
          Effect.andThen(get("TRIM_HORIZON"))
        )
    )
  )
}

/** Reads one page of the shard: its records and the next iterator, or why there is none. */
const readPage = (m: Mapping, shardId: string, reader: Reader, start: ShardIteratorType, checkpoint: string | undefined) =>
  Effect.gen(function*() {
    const iterator = reader.iterator ?? (yield* iteratorFor(m, shardId, reader.lastRead ?? checkpoint, start))
    if (iterator === undefined) return { _tag: "Gone" } satisfies Page
    const out = yield* streamCall("GetRecords", (c) => c.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: GET_RECORDS_LIMIT })))
    const records = (out.Records ?? []).map((r) => StreamEvent.lambdaRecord(r, m.options.streamArn))
    return { _tag: "Records", records, next: out.NextShardIterator } satisfies Page
  }).pipe(
    Effect.catchIf(
      (e) => causeName(e) === "ExpiredIteratorException",
      () => Effect.succeed({ _tag: "Expired" } satisfies Page)
    ),
    // The iterator points before the oldest record kept: on AWS, records past the 24 h retention; on
    // DynamoDB Local (file-backed), also a TRIM_HORIZON iterator taken while the shard was empty. Either
    // way a new iterator (after what was read, else at the oldest record) goes on.
    Effect.catchIf(
      (e) => causeName(e) === "TrimmedDataAccessException",
      (e) =>
        Effect.logWarning("iterator is behind the oldest record kept; taking a new one").pipe(
          Effect.annotateLogs({ error: e.message }),
          Effect.as({ _tag: "Expired" } satisfies Page)
        )
    ),
    Effect.catchIf(
      (e) => e.kind === "NotFound",
      (e) =>
        Effect.logWarning("shard is gone from the stream; treating it as read").pipe(
          Effect.annotateLogs({ error: e.message }),
          Effect.as({ _tag: "Gone" } satisfies Page)
        )
    )
  )

/**
 * Reads one shard to its end (forever, while it is open): batches strictly one after another, in
 * order. Resumes just after the shard's checkpoint, else at `start`.
 */
const readShard = (m: Mapping, shardId: string, start: ShardIteratorType) =>
  Effect.gen(function*() {
    const checkpoint = Checkpoints.get(yield* SynchronizedRef.get(m.checkpoints), m.options.streamArn, shardId)?.sequenceNumber
    yield* updateShard(m, shardId, (p) => ({ ...p, checkpoint }))
    const reader = yield* Ref.make<Reader>({
      iterator: undefined,
      lastRead: undefined,
      pending: [],
      ended: false,
      gatheringSince: yield* Clock.currentTimeMillis
    })

    /** Reads a page when the next batch is not full yet; `true` when the page had records. */
    const read = Effect.gen(function*() {
      const before = yield* Ref.get(reader)
      if (before.ended || before.pending.length >= m.settings.batchSize) return true
      const page = yield* readPage(m, shardId, before, start, checkpoint)
      if (page._tag === "Expired") {
        yield* Ref.set(reader, { ...before, iterator: undefined })
        return false
      }
      if (page._tag === "Gone") {
        yield* Ref.set(reader, { ...before, iterator: undefined, ended: true })
        return false
      }
      const gathered = gather(before.pending, page.records, m.filter)
      const lastRead = page.records.at(-1)?.dynamodb?.SequenceNumber ?? before.lastRead
      yield* Ref.set(reader, {
        ...before,
        iterator: page.next,
        lastRead,
        pending: gathered.pending,
        ended: page.next === undefined
      })
      if (gathered.skippedTo !== undefined) yield* checkpointAt(m, shardId, gathered.skippedTo)
      yield* updateShard(m, shardId, (p) => ({
        ...p,
        pending: gathered.pending.length,
        caughtUp: page.records.length === 0 && gathered.pending.length === 0
      }))
      return page.records.length > 0
    })

    /** One step: read, then deliver a batch if one is due, else wait; `true` once the shard is finished. */
    const step = Effect.gen(function*() {
      const found = yield* read
      const state = yield* Ref.get(reader)
      const now = yield* Clock.currentTimeMillis
      const size = due(state.pending.length, m.settings, state.ended, now - state.gatheringSince)
      if (size > 0) {
        yield* Ref.set(reader, { ...state, pending: state.pending.slice(size) })
        yield* updateShard(m, shardId, (p) => ({ ...p, pending: state.pending.length - size }))
        yield* deliver(m, shardId, { entries: state.pending.slice(0, size), retries: 0, invocations: 0, last: undefined })
        const delivered = yield* Clock.currentTimeMillis
        yield* Ref.update(reader, (r) => ({ ...r, gatheringSince: delivered }))
        return false
      }
      if (state.ended && state.pending.length === 0) {
        yield* SynchronizedRef.updateEffect(m.checkpoints, (before) => {
          const after = Checkpoints.finish(before, m.options.streamArn, shardId)
          return Checkpoints.save(m.options.checkpointFile, after).pipe(Effect.as(after))
        })
        yield* updateShard(m, shardId, (p) => ({ ...p, finished: true, caughtUp: true, pending: 0 }))
        yield* Effect.logInfo("shard finished")
        yield* Queue.offer(m.wake, undefined)
        return true
      }
      if (!found) {
        const windowLeft = m.settings.maximumBatchingWindowInSeconds * 1000 - (now - state.gatheringSince)
        yield* Effect.sleep(state.pending.length === 0 ? m.pollMillis : Math.max(0, Math.min(m.pollMillis, windowLeft)))
      }
      return false
    })

    yield* Effect.logInfo("reading shard").pipe(Effect.annotateLogs({ from: checkpoint ?? start }))
    yield* Effect.repeat(step, { until: (finished) => finished })
  }).pipe(Effect.annotateLogs({ shardId }))

/**
 * Runs the mapping until interrupted: reads every shard of `streamArn` (a child once its parent is
 * finished; shards concurrently, each shard's batches strictly in order) and invokes `invoke` as
 * Lambda would, with `settings`. Checkpoints are kept in `checkpointFile`, what is given up on is
 * appended to `onFailureFile`, and `progress` (when given) follows what was done.
 *
 * Fails at once, before reading anything, on a filter pattern or setting it cannot honour; later on
 * a checkpoint or on-failure file it cannot write, or a stream error that is not passing (the stream
 * was deleted). Streams calls that fail for a passing reason are retried without end, as Lambda keeps
 * polling.
 */
export const run = Effect.fn("Runner.run")(function*(options: Options) {
  const settings = yield* Effect.fromResult(checkSettings(options.settings))
  const filter = yield* Effect.fromResult(Filter.parseAll(settings.filterPatterns))
  const loaded = yield* Checkpoints.load(options.checkpointFile)
  const m: Mapping = {
    options,
    settings,
    filter,
    checkpoints: yield* SynchronizedRef.make(loaded),
    progress: options.progress ?? (yield* makeProgress),
    pollMillis: Duration.toMillis(options.pollInterval ?? POLL_INTERVAL_MILLIS),
    timeout: options.functionTimeout ?? Duration.seconds(Deployment.functionSettings.timeoutSeconds),
    wake: yield* Queue.sliding<void>(1)
  }
  // Shards present at the first look start at the mapping's position; any other shard, found later or
  // after a restart of a mapping that has read before, from its oldest record, so none is skipped.
  const hadCheckpoints = Object.keys(loaded.streams[options.streamArn] ?? {}).length > 0
  const reading = yield* Ref.make<ReadonlySet<string>>(new Set())
  const firstLook = yield* Ref.make(true)

  return yield* Effect.scoped(Effect.gen(function*() {
    const shards = yield* FiberSet.make<void, RunError>()
    const discover = Effect.gen(function*() {
      const listed = yield* describeShards(options.streamArn)
      const finished = Checkpoints.finished(yield* SynchronizedRef.get(m.checkpoints), options.streamArn)
      const start = (yield* Ref.getAndSet(firstLook, false)) && !hadCheckpoints ? settings.startingPosition : "TRIM_HORIZON"
      for (const shard of Shards.readyToRead(listed, finished, yield* Ref.get(reading))) {
        yield* Ref.update(reading, (s) => new Set([...s, shard.shardId]))
        yield* FiberSet.run(shards, readShard(m, shard.shardId, start))
      }
    })
    const nextLook = Effect.raceFirst(Queue.take(m.wake), Effect.sleep(SHARD_DISCOVERY_INTERVAL_MILLIS))
    yield* FiberSet.run(shards, Effect.forever(discover.pipe(Effect.andThen(nextLook))))
    yield* FiberSet.join(shards)
    return yield* Effect.never
  }))
}, (effect, options) => Effect.annotateLogs(effect, { streamArn: options.streamArn }))
