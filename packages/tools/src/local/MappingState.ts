/**
 * What a run of the local mapping shares between its shards, its reader and its delivery: the
 * `MappingState` record, checkpointing, and streams calls that outlast passing failures.
 */
import type { DynamoDBStreamsClient } from "@aws-sdk/client-dynamodb-streams"
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from "aws-lambda"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Queue from "effect/Queue"
import type * as SubscriptionRef from "effect/SubscriptionRef"
import * as SynchronizedRef from "effect/SynchronizedRef"
import * as AwsCall from "@dyna/aws/AwsCall"
import type * as Deployment from "@dyna/aws/Deployment"
import type { DynamoDbError } from "@dyna/aws/DynamoDb"
import { DynamoDbStreams } from "../clients/DynamoDbStreams.js"
import * as Retry from "@dyna/aws/Retry"
import * as Checkpoints from "./Checkpoints.js"
import type * as Filter from "./Filter.js"
import * as RunnerProgress from "./RunnerProgress.js"

/** The function, as the runner calls it; a rejected promise is a function error. */
export type Invoke = (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse | void>

/** Everything a run of the local mapping shares between its shards: what it serves, and where it stands. */
export interface MappingState {
  readonly streamArn: string
  /** The mapping's settings, checked (`Runner.checkSettings`). */
  readonly settings: Deployment.MappingSettings
  readonly invoke: Invoke
  /** Where each shard's checkpoint is kept (see `Checkpoints`). */
  readonly checkpointFile: string
  /** Where records given up on are appended (see `OnFailure`). */
  readonly onFailureFile: string
  /** Named in on-failure records, as Lambda names the function. */
  readonly functionArn: string | undefined
  readonly filter: Filter.Filter
  readonly checkpoints: SynchronizedRef.SynchronizedRef<Checkpoints.Checkpoints>
  readonly progress: SubscriptionRef.SubscriptionRef<RunnerProgress.Progress>
  readonly pollMillis: number
  readonly timeout: Duration.Input
  /** Wakes the shard discovery (a shard finished: its children may start). */
  readonly wake: Queue.Queue<void>
}

/** The name of the AWS exception behind the error. */
export const causeName = (error: DynamoDbError) => AwsCall.reported(error.cause).name

/** One streams call, retried for as long as it fails for a passing reason (as the mapping keeps polling). */
export const streamCall = <A>(operation: string, f: (client: DynamoDBStreamsClient) => Promise<A>) =>
  Effect.gen(function*() {
    const streams = yield* DynamoDbStreams
    return yield* streams.call(operation, f)
  }).pipe(
    Effect.tapError((error) =>
      Retry.isTransient(error)
        ? Effect.logWarning("stream read failed; trying again").pipe(Effect.annotateLogs({ operation, error: error.message }))
        : Effect.void
    ),
    // Throttling, 5xx, DynamoDB unreachable for now: keep polling, as the mapping does.
    Effect.retry({ schedule: Retry.redelivery, while: Retry.isTransient })
  )

/** Moves the shard's checkpoint forward and writes it down before anything else happens. */
export const checkpointAt = (m: MappingState, shardId: string, sequenceNumber: string) =>
  SynchronizedRef.updateEffect(m.checkpoints, (before) => {
    const after = Checkpoints.advance(before, m.streamArn, shardId, sequenceNumber)
    return after === before ? Effect.succeed(before) : Checkpoints.save(m.checkpointFile, after).pipe(Effect.as(after))
  }).pipe(
    Effect.andThen(SynchronizedRef.get(m.checkpoints)),
    Effect.flatMap((cp) =>
      RunnerProgress.updateShard(m.progress, shardId, (p) => ({ ...p, checkpoint: Checkpoints.get(cp, m.streamArn, shardId)?.sequenceNumber }))
    )
  )
