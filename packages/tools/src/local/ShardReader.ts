/**
 * Reading one shard of the stream, as Lambda's event source mapping does: iterators (renewed when they
 * expire or fall behind what the stream keeps), pages, filtering and batching within the window.
 */
import { GetRecordsCommand, GetShardIteratorCommand, type ShardIteratorType } from "@aws-sdk/client-dynamodb-streams"
import type { DynamoDBRecord } from "aws-lambda"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Queue from "effect/Queue"
import * as Ref from "effect/Ref"
import * as SynchronizedRef from "effect/SynchronizedRef"
import type * as Deployment from "@dyna/aws/Deployment"
import * as Checkpoints from "./Checkpoints.js"
import * as Delivery from "./Delivery.js"
import * as Filter from "./Filter.js"
import * as MappingState from "./MappingState.js"
import * as RunnerProgress from "./RunnerProgress.js"
import * as StreamEvent from "./StreamEvent.js"

/** The most records one `GetRecords` call returns. */
const GET_RECORDS_LIMIT = 1_000

// ---------------------------------------------------------------------------------------------------
// Pure parts: reading a page into what waits for delivery, and when a batch is due.

/** One page of records added to what waits: matching records join it, the others are passed over. */
const gather = (
  pending: ReadonlyArray<Delivery.Pending>,
  records: ReadonlyArray<DynamoDBRecord>,
  filter: Filter.Filter
): { readonly pending: ReadonlyArray<Delivery.Pending>; readonly skippedTo: string | undefined } => {
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

// ---------------------------------------------------------------------------------------------------
// The reader.

/** Where a shard's reader stands between two steps. */
interface Reader {
  /** The iterator for the next `GetRecords`; `undefined` when one must be asked for. */
  readonly iterator: string | undefined
  /** The last sequence number read (handled or waiting). */
  readonly lastRead: string | undefined
  readonly pending: ReadonlyArray<Delivery.Pending>
  /** The shard is closed and every record in it has been read. */
  readonly ended: boolean
  /** When the current batch started gathering (the last delivery, or the start). */
  readonly gatheringSince: number
}

type Page = { readonly _tag: "Records"; readonly records: ReadonlyArray<DynamoDBRecord>; readonly next: string | undefined } | {
  readonly _tag: "Expired"
} | { readonly _tag: "Gone" }

/** An iterator just after `after`, or at `start` when nothing was handled yet. */
const iteratorFor = (m: MappingState.MappingState, shardId: string, after: string | undefined, start: ShardIteratorType) => {
  const get = (type: ShardIteratorType, sequenceNumber?: string) =>
    MappingState.streamCall("GetShardIterator", (c) =>
      c.send(
        new GetShardIteratorCommand({
          StreamArn: m.streamArn,
          ShardId: shardId,
          ShardIteratorType: type,
          ...(sequenceNumber === undefined ? {} : { SequenceNumber: sequenceNumber })
        })
      )).pipe(Effect.map((out) => out.ShardIterator))
  return (after === undefined ? get(start) : get("AFTER_SEQUENCE_NUMBER", after)).pipe(
    Effect.catchIf(
      (e) => after !== undefined && MappingState.causeName(e) === "TrimmedDataAccessException",
      () =>
        Effect.logWarning("checkpoint is older than the stream keeps; reading from the oldest record").pipe(
          Effect.annotateLogs({ checkpoint: after }),
          Effect.andThen(get("TRIM_HORIZON"))
        )
    )
  )
}

/** Reads one page of the shard: its records and the next iterator, or why there is none. */
const readPage = (m: MappingState.MappingState, shardId: string, reader: Reader, start: ShardIteratorType, checkpoint: string | undefined) =>
  Effect.gen(function*() {
    const iterator = reader.iterator ?? (yield* iteratorFor(m, shardId, reader.lastRead ?? checkpoint, start))
    if (iterator === undefined) return { _tag: "Gone" } satisfies Page
    const out = yield* MappingState.streamCall("GetRecords", (c) => c.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: GET_RECORDS_LIMIT })))
    const records = (out.Records ?? []).map((r) => StreamEvent.lambdaRecord(r, m.streamArn))
    return { _tag: "Records", records, next: out.NextShardIterator } satisfies Page
  }).pipe(
    Effect.catchIf(
      (e) => MappingState.causeName(e) === "ExpiredIteratorException",
      () => Effect.succeed({ _tag: "Expired" } satisfies Page)
    ),
    // The iterator points before the oldest record kept: on AWS, records past the 24 h retention; on
    // DynamoDB Local (file-backed), also a TRIM_HORIZON iterator taken while the shard was empty. Either
    // way a new iterator (after what was read, else at the oldest record) goes on.
    Effect.catchIf(
      (e) => MappingState.causeName(e) === "TrimmedDataAccessException",
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
export const readShard = (m: MappingState.MappingState, shardId: string, start: ShardIteratorType) =>
  Effect.gen(function*() {
    const checkpoint = Checkpoints.get(yield* SynchronizedRef.get(m.checkpoints), m.streamArn, shardId)?.sequenceNumber
    yield* RunnerProgress.updateShard(m.progress, shardId, (p) => ({ ...p, checkpoint }))
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
      if (gathered.skippedTo !== undefined) yield* MappingState.checkpointAt(m, shardId, gathered.skippedTo)
      yield* RunnerProgress.updateShard(m.progress, shardId, (p) => ({
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
        yield* RunnerProgress.updateShard(m.progress, shardId, (p) => ({ ...p, pending: state.pending.length - size }))
        yield* Delivery.deliver(m, shardId, { entries: state.pending.slice(0, size), retries: 0, invocations: 0, last: undefined })
        const delivered = yield* Clock.currentTimeMillis
        yield* Ref.update(reader, (r) => ({ ...r, gatheringSince: delivered }))
        return false
      }
      if (state.ended && state.pending.length === 0) {
        yield* SynchronizedRef.updateEffect(m.checkpoints, (before) => {
          const after = Checkpoints.finish(before, m.streamArn, shardId)
          return Checkpoints.save(m.checkpointFile, after).pipe(Effect.as(after))
        })
        yield* RunnerProgress.updateShard(m.progress, shardId, (p) => ({ ...p, finished: true, caughtUp: true, pending: 0 }))
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
