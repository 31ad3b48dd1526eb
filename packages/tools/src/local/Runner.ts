/**
 * The local stand-in for Lambda's event source mapping on a DynamoDB stream: reads every shard (a child
 * after its parent), filters, batches and invokes the function, then checkpoints, redelivers, bisects
 * and gives up as Lambda does, obeying the mapping's settings (`Deployment.MappingSettings`).
 */
import { DescribeStreamCommand } from "@aws-sdk/client-dynamodb-streams"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as FiberSet from "effect/FiberSet"
import * as Queue from "effect/Queue"
import * as Ref from "effect/Ref"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import type * as SubscriptionRef from "effect/SubscriptionRef"
import * as SynchronizedRef from "effect/SynchronizedRef"
import * as Deployment from "@dyna/aws/Deployment"
import type { DynamoDbError } from "@dyna/aws/DynamoDb"
import type { DynamoDbStreams } from "../clients/DynamoDbStreams.js"
import * as Checkpoints from "./Checkpoints.js"
import * as Filter from "./Filter.js"
import * as MappingState from "./MappingState.js"
import type * as OnFailure from "./OnFailure.js"
import * as RunnerProgress from "./RunnerProgress.js"
import * as ShardReader from "./ShardReader.js"
import * as Shards from "./Shards.js"

/** How long a shard that returned no records waits before it is read again. */
export const POLL_INTERVAL_MILLIS = 100

/** How often the stream is described again to find new shards (and at once when a shard finishes). */
export const SHARD_DISCOVERY_INTERVAL_MILLIS = 10_000

/** A mapping setting the runner cannot honour as Lambda would. */
export class UnsupportedSetting extends Schema.TaggedError<UnsupportedSetting>()("UnsupportedSetting", {
  setting: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `mapping setting ${this.setting} cannot be used by the local runner: ${this.reason}`
  }
}

/** What {@link run} serves: one mapping from a stream to a function. */
export interface Options {
  readonly streamArn: string
  /** The event source mapping's settings, as deployed to AWS (`Deployment.mappingSettings`). */
  readonly settings: Deployment.MappingSettings
  /** The function; a rejected promise is a function error. */
  readonly invoke: MappingState.Invoke
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
  /** Where the runner reports its progress (see `RunnerProgress.make`). */
  readonly progress?: SubscriptionRef.SubscriptionRef<RunnerProgress.Progress> | undefined
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
  if (!isInt(s.parallelizationFactor, 1, 10)) {
    return bad("parallelizationFactor", `${s.parallelizationFactor}: must be an integer from 1 to 10`)
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
// Shard discovery and the run.

/** Every shard of the stream, following `LastEvaluatedShardId` from page to page. */
const describeShards = (streamArn: string, from?: string): Effect.Effect<ReadonlyArray<Shards.Shard>, DynamoDbError, DynamoDbStreams> =>
  MappingState.streamCall("DescribeStream", (c) =>
    c.send(new DescribeStreamCommand({ StreamArn: streamArn, ...(from === undefined ? {} : { ExclusiveStartShardId: from }) }))).pipe(
      Effect.flatMap((out) => {
        const shards = (out.StreamDescription?.Shards ?? []).flatMap((s) =>
          s.ShardId === undefined ? [] : [{ shardId: s.ShardId, parentShardId: s.ParentShardId }]
        )
        const next = out.StreamDescription?.LastEvaluatedShardId
        return next === undefined ? Effect.succeed(shards) : describeShards(streamArn, next).pipe(Effect.map((rest) => [...shards, ...rest]))
      })
    )

/**
 * Runs the mapping until interrupted: reads every shard of `streamArn` (a child once its parent is
 * finished; shards concurrently, and within a shard up to `parallelizationFactor` batches at once, each
 * item's records strictly in order: see `ShardReader.readShard`) and invokes `invoke` as
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
  const m: MappingState.MappingState = {
    streamArn: options.streamArn,
    settings,
    invoke: options.invoke,
    checkpointFile: options.checkpointFile,
    onFailureFile: options.onFailureFile,
    functionArn: options.functionArn,
    filter,
    checkpoints: yield* SynchronizedRef.make(loaded),
    progress: options.progress ?? (yield* RunnerProgress.make),
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
        yield* FiberSet.run(shards, ShardReader.readShard(m, shard.shardId, start))
      }
    })
    const nextLook = Effect.raceFirst(Queue.take(m.wake), Effect.sleep(SHARD_DISCOVERY_INTERVAL_MILLIS))
    yield* FiberSet.run(shards, Effect.forever(discover.pipe(Effect.andThen(nextLook))))
    yield* FiberSet.join(shards)
    return yield* Effect.never
  }))
}, (effect, options) => Effect.annotateLogs(effect, { streamArn: options.streamArn }))
