/**
 * Reading one shard of the stream, as Lambda's event source mapping does: iterators (renewed when they
 * expire or fall behind what the stream keeps), pages, filtering and batching within the window.
 */
import { GetRecordsCommand, GetShardIteratorCommand, type ShardIteratorType } from "@aws-sdk/client-dynamodb-streams"
import type { DynamoDBRecord } from "aws-lambda"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as FiberSet from "effect/FiberSet"
import * as Queue from "effect/Queue"
import * as Ref from "effect/Ref"
import * as SynchronizedRef from "effect/SynchronizedRef"
import type * as Deployment from "@dyna/aws/Deployment"
import * as Checkpoints from "./Checkpoints.js"
import * as Delivery from "./Delivery.js"
import * as Filter from "./Filter.js"
import * as Lanes from "./Lanes.js"
import * as MappingState from "./MappingState.js"
import * as Outstanding from "./Outstanding.js"
import * as RunnerProgress from "./RunnerProgress.js"
import * as StreamEvent from "./StreamEvent.js"

/** The most records one `GetRecords` call returns. */
const GET_RECORDS_LIMIT = 1_000

// ---------------------------------------------------------------------------------------------------
// Pure parts: a page sorted into lanes, and when a lane's batch is due.

/** A record of a page: with its sequence number, and whether it passes the filter. */
interface Read {
  readonly record: DynamoDBRecord
  readonly sequenceNumber: string
  readonly matched: boolean
}

/** The page's records with their sequence numbers (GetRecords always gives one; a record without it could never be checkpointed). */
const sequenced = (records: ReadonlyArray<DynamoDBRecord>, filter: Filter.Filter): ReadonlyArray<Read> =>
  records.flatMap((record) => {
    const sequenceNumber = record.dynamodb?.SequenceNumber
    return sequenceNumber === undefined ? [] : [{ record, sequenceNumber, matched: Filter.matches(filter, record) }]
  })

/** The matching records of a page added to their lanes' waiting records, each lane keeping stream order. */
const sortIntoLanes = (lanes: ReadonlyArray<Lane>, page: ReadonlyArray<Read>, factor: number): ReadonlyArray<Lane> => {
  const pending = lanes.map((l) => [...l.pending])
  for (const r of page) {
    if (r.matched) pending[Lanes.laneOf(r.record, factor)]?.push({ record: r.record, sequenceNumber: r.sequenceNumber })
  }
  return lanes.map((l, i) => ({ ...l, pending: pending[i] ?? l.pending }))
}

/** How many waiting records to deliver now: a full batch, or whatever waits once the window has passed. */
const due = (pending: number, settings: Deployment.MappingSettings, ended: boolean, waitedMillis: number): number => {
  if (pending >= settings.batchSize) return settings.batchSize
  if (pending > 0 && (ended || waitedMillis >= settings.maximumBatchingWindowInSeconds * 1000)) return pending
  return 0
}

// ---------------------------------------------------------------------------------------------------
// The reader.

/** One lane of the shard: its records waiting for a batch, and whether its one batch is being delivered. */
interface Lane {
  readonly pending: ReadonlyArray<Delivery.Pending>
  readonly busy: boolean
  /** When the lane's next batch started gathering (its last delivery, or the start). */
  readonly gatheringSince: number
}

/** Where a shard's reader stands between two steps. */
interface Reader {
  /** The iterator for the next `GetRecords`; `undefined` when one must be asked for. */
  readonly iterator: string | undefined
  /** The last sequence number read (handled, waiting or being delivered). */
  readonly lastRead: string | undefined
  /** One lane per `parallelizationFactor`: one batch of each at a time, all concurrently. */
  readonly lanes: ReadonlyArray<Lane>
  /** The shard is closed and every record in it has been read. */
  readonly ended: boolean
}

const waiting = (r: Reader): number => r.lanes.reduce((n, l) => n + l.pending.length, 0)

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
 * Reads one shard to its end (forever, while it is open). Records are sorted into
 * `parallelizationFactor` lanes by their item's key (`Lanes.laneOf`); each lane delivers one batch at a
 * time, in order, and the lanes deliver concurrently, so one item's records are always in order and
 * never in two batches at once. The checkpoint moves only past records every lane has finished
 * (`Outstanding`). Resumes just after the shard's checkpoint, else at `start`.
 */
export const readShard = (m: MappingState.MappingState, shardId: string, start: ShardIteratorType) =>
  Effect.gen(function*() {
    const checkpoint = Checkpoints.get(yield* SynchronizedRef.get(m.checkpoints), m.streamArn, shardId)?.sequenceNumber
    yield* RunnerProgress.updateShard(m.progress, shardId, (p) => ({ ...p, checkpoint }))
    const factor = m.settings.parallelizationFactor
    const began = yield* Clock.currentTimeMillis
    const reader = yield* Ref.make<Reader>({
      iterator: undefined,
      lastRead: undefined,
      lanes: Array.from({ length: factor }, () => ({ pending: [], busy: false, gatheringSince: began })),
      ended: false
    })
    const outstanding = yield* Ref.make(Outstanding.empty)
    /** Wakes the reader when a lane has finished its batch. */
    const laneFree = yield* Queue.sliding<void>(1)
    const deliveries = yield* FiberSet.make<void, Effect.Error<ReturnType<typeof Delivery.deliver>>>()

    const handled: Delivery.Handled = (entries) =>
      Ref.modify(outstanding, (o) => {
        const after = Outstanding.handled(o, entries.map((e) => e.sequenceNumber))
        return [after.checkpoint, after.outstanding]
      }).pipe(Effect.flatMap((to) => (to === undefined ? Effect.void : MappingState.checkpointAt(m, shardId, to))))

    /** Reads a page when the lanes are not full yet. */
    const read = Effect.gen(function*() {
      const before = yield* Ref.get(reader)
      if (before.ended || waiting(before) >= m.settings.batchSize * factor) return "Full" as const
      const page = yield* readPage(m, shardId, before, start, checkpoint)
      if (page._tag === "Expired") {
        yield* Ref.set(reader, { ...before, iterator: undefined })
        return "Empty" as const
      }
      if (page._tag === "Gone") {
        yield* Ref.set(reader, { ...before, iterator: undefined, ended: true })
        return "Empty" as const
      }
      const records = sequenced(page.records, m.filter)
      const skipped = yield* Ref.modify(outstanding, (o) => {
        const after = Outstanding.read(o, records)
        return [after.handledTo, after.outstanding]
      })
      const now = yield* Ref.updateAndGet(reader, (r) => ({
        ...r,
        iterator: page.next,
        lastRead: page.records.at(-1)?.dynamodb?.SequenceNumber ?? r.lastRead,
        lanes: sortIntoLanes(r.lanes, records, factor),
        ended: page.next === undefined
      }))
      if (skipped !== undefined) yield* MappingState.checkpointAt(m, shardId, skipped)
      yield* RunnerProgress.updateShard(m.progress, shardId, (p) => ({
        ...p,
        pending: waiting(now),
        caughtUp: page.records.length === 0 && waiting(now) === 0 && now.lanes.every((l) => !l.busy)
      }))
      return page.records.length > 0 ? "Records" as const : "Empty" as const
    })

    /** Starts the due batch of every lane that is free; how many were started. */
    const dispatch = Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const state = yield* Ref.get(reader)
      const batches = state.lanes.map((l) =>
        l.busy ? [] : l.pending.slice(0, due(l.pending.length, m.settings, state.ended, now - l.gatheringSince))
      )
      if (batches.every((b) => b.length === 0)) return 0
      const after = yield* Ref.updateAndGet(reader, (r) => ({
        ...r,
        lanes: r.lanes.map((l, i) => {
          const size = batches[i]?.length ?? 0
          return size === 0 ? l : { ...l, busy: true, pending: l.pending.slice(size) }
        })
      }))
      yield* RunnerProgress.updateShard(m.progress, shardId, (p) => ({ ...p, pending: waiting(after) }))
      const free = (lane: number) =>
        Clock.currentTimeMillis.pipe(
          Effect.flatMap((at) =>
            Ref.update(reader, (r) => ({ ...r, lanes: r.lanes.map((l, i) => (i === lane ? { ...l, busy: false, gatheringSince: at } : l)) }))
          ),
          Effect.andThen(Queue.offer(laneFree, undefined))
        )
      let started = 0
      for (const [lane, entries] of batches.entries()) {
        if (entries.length === 0) continue
        started++
        yield* FiberSet.run(
          deliveries,
          Delivery.deliver(m, shardId, handled, { entries, retries: 0, invocations: 0, last: undefined }).pipe(Effect.ensuring(free(lane)))
        )
      }
      return started
    })

    /** One step: read, start the batches that are due, else wait; `true` once the shard is finished. */
    const step = Effect.gen(function*() {
      const found = yield* read
      const started = yield* dispatch
      const state = yield* Ref.get(reader)
      if (state.ended && waiting(state) === 0 && state.lanes.every((l) => !l.busy)) {
        yield* SynchronizedRef.updateEffect(m.checkpoints, (before) => {
          const after = Checkpoints.finish(before, m.streamArn, shardId)
          return Checkpoints.save(m.checkpointFile, after).pipe(Effect.as(after))
        })
        yield* RunnerProgress.updateShard(m.progress, shardId, (p) => ({ ...p, finished: true, caughtUp: true, pending: 0 }))
        yield* Effect.logInfo("shard finished")
        yield* Queue.offer(m.wake, undefined)
        return true
      }
      if (started === 0 && found !== "Records") {
        // Wait for a lane to finish, the next poll, or the earliest batching window of a free lane to pass.
        const now = yield* Clock.currentTimeMillis
        const windows = state.lanes.filter((l) => !l.busy && l.pending.length > 0).map((l) =>
          m.settings.maximumBatchingWindowInSeconds * 1000 - (now - l.gatheringSince)
        )
        const wait = Math.max(0, Math.min(m.pollMillis, ...windows))
        yield* Effect.raceFirst(Queue.take(laneFree), Effect.sleep(wait))
      }
      return false
    })

    yield* Effect.logInfo("reading shard").pipe(Effect.annotateLogs({ from: checkpoint ?? start, parallelizationFactor: factor }))
    // A delivery that fails (a checkpoint or on-failure file that cannot be written) stops the shard.
    yield* Effect.raceFirst(Effect.repeat(step, { until: (finished) => finished }), FiberSet.join(deliveries))
  }).pipe(Effect.scoped, Effect.annotateLogs({ shardId }))
