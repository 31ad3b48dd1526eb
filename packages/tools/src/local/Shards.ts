/**
 * Which shards of a stream may be read now. A shard that split or rolled over has children; to keep a
 * key's records in order, a child is read only once its parent has been read to its end (or the
 * parent has left the stream, trimmed after 24 hours).
 */

/** A shard as `DescribeStream` lists it. */
export interface Shard {
  readonly shardId: string
  readonly parentShardId?: string | undefined
}

/**
 * The shards to start reading, in the stream's order: neither finished nor being read, and with no
 * parent still to finish.
 */
export const readyToRead = (
  shards: ReadonlyArray<Shard>,
  finished: ReadonlySet<string>,
  reading: ReadonlySet<string>
): ReadonlyArray<Shard> => {
  const listed = new Set(shards.map((s) => s.shardId))
  const parentDone = (parent: string | undefined) => parent === undefined || finished.has(parent) || !listed.has(parent)
  return shards.filter((s) => !finished.has(s.shardId) && !reading.has(s.shardId) && parentDone(s.parentShardId))
}
