/**
 * How far the local runner has got, per shard and in total: what tests, the runner process's status
 * file and `pnpm verify` watch while it works.
 */
import * as Effect from "effect/Effect"
import * as SubscriptionRef from "effect/SubscriptionRef"

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
export const initial: Progress = { shards: {}, batches: 0, records: 0, onFailure: 0 }

/** A shard not read yet: where a shard's progress starts. */
export const noShardProgress: ShardProgress = {
  checkpoint: undefined,
  finished: false,
  caughtUp: false,
  pending: 0,
  lastSuccessAt: undefined,
  iteratorAgeMillis: undefined
}

/** A fresh progress reference to pass to `Runner.run` and watch. */
export const make: Effect.Effect<SubscriptionRef.SubscriptionRef<Progress>> = SubscriptionRef.make(initial)

/** Changes what the progress says about one shard. */
export const updateShard = (
  progress: SubscriptionRef.SubscriptionRef<Progress>,
  shardId: string,
  f: (p: ShardProgress) => ShardProgress
): Effect.Effect<void> =>
  SubscriptionRef.update(progress, (p) => ({ ...p, shards: { ...p.shards, [shardId]: f(p.shards[shardId] ?? noShardProgress) } }))
