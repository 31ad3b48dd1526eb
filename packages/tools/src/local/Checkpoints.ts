/**
 * The local runner's checkpoints: per shard of a stream, the last sequence number fully handled and
 * whether the shard is finished. Kept in a JSON file, replaced atomically, so a restart resumes
 * exactly after what was handled.
 */
import { compareSequenceNumbers } from "@dyna/core/BatchResult"
import { SequenceNumber } from "@dyna/core/StreamRecord"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { existsSync, readFileSync } from "node:fs"
import * as AtomicFile from "./AtomicFile.js"

/** Reading or writing the checkpoint file failed: the runner stops rather than skip or repeat records. */
export class CheckpointError extends Schema.TaggedError<CheckpointError>()("CheckpointError", {
  file: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `checkpoint file ${this.file}: ${this.reason}`
  }
}

/** Where one shard stands. */
export const Shard = Schema.Struct({
  /** The last sequence number handled: delivered successfully, filtered out, or given up on. */
  sequenceNumber: Schema.optional(SequenceNumber),
  /** The shard is closed and was read to its end: its children may be read. */
  finished: Schema.Boolean
})
export type Shard = typeof Shard.Type

/** Every shard's checkpoint, by stream ARN, then shard id. */
export const Checkpoints = Schema.Struct({
  streams: Schema.Record(Schema.String, Schema.Record(Schema.String, Shard))
})
export type Checkpoints = typeof Checkpoints.Type

/** No shard read yet. */
export const empty: Checkpoints = { streams: {} }

const File = Schema.fromJsonString(Checkpoints)

/** The shard's checkpoint, or `undefined` when it was never read. */
export const get = (checkpoints: Checkpoints, streamArn: string, shardId: string): Shard | undefined =>
  checkpoints.streams[streamArn]?.[shardId]

const put = (checkpoints: Checkpoints, streamArn: string, shardId: string, shard: Shard): Checkpoints => ({
  streams: { ...checkpoints.streams, [streamArn]: { ...checkpoints.streams[streamArn], [shardId]: shard } }
})

/**
 * Moves the shard's checkpoint to `sequenceNumber`. A checkpoint only moves forward: an older number
 * leaves it where it is (so a late write can never make a restart deliver handled records again).
 */
export const advance = (checkpoints: Checkpoints, streamArn: string, shardId: string, sequenceNumber: string): Checkpoints => {
  const shard = get(checkpoints, streamArn, shardId)
  if (shard?.sequenceNumber !== undefined && compareSequenceNumbers(sequenceNumber, shard.sequenceNumber) <= 0) {
    return checkpoints
  }
  return put(checkpoints, streamArn, shardId, { sequenceNumber, finished: shard?.finished ?? false })
}

/** Marks the shard read to its end. */
export const finish = (checkpoints: Checkpoints, streamArn: string, shardId: string): Checkpoints => {
  const shard = get(checkpoints, streamArn, shardId)
  return put(checkpoints, streamArn, shardId, { ...shard, finished: true })
}

/** The shards of the stream that are finished. */
export const finished = (checkpoints: Checkpoints, streamArn: string): ReadonlySet<string> =>
  new Set(Object.entries(checkpoints.streams[streamArn] ?? {}).filter(([, s]) => s.finished).map(([id]) => id))

/** Reads the file; a missing file is no checkpoints yet, an unreadable one an error. */
export const load = (file: string): Effect.Effect<Checkpoints, CheckpointError> =>
  Effect.gen(function*() {
    if (!existsSync(file)) return empty
    const text = yield* Effect.try({
      try: () => readFileSync(file, "utf8"),
      catch: (e) => new CheckpointError({ file, reason: `cannot be read (${e instanceof Error ? e.message : String(e)})` })
    })
    return yield* Schema.decodeUnknownEffect(File)(text).pipe(
      Effect.mapError((e) => new CheckpointError({ file, reason: `is not a checkpoint file (${e.message})` }))
    )
  })

/** Writes the file atomically (see `AtomicFile`). */
export const save = (file: string, checkpoints: Checkpoints): Effect.Effect<void, CheckpointError> =>
  Effect.try({
    try: () => AtomicFile.write(file, `${JSON.stringify(checkpoints, null, 2)}\n`),
    catch: (e) => new CheckpointError({ file, reason: `cannot be written (${e instanceof Error ? e.message : String(e)})` })
  })
