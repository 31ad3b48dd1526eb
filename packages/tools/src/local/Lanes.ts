/**
 * The lanes of a shard under a `ParallelizationFactor` above 1: which of the shard's concurrent batches
 * a record belongs to, by a hash of its item's key, so one item's records always share a lane.
 */
import type { DynamoDBRecord } from "aws-lambda"

/** FNV-1a, 32 bits: a stable hash (the same lane on every run and restart), not a secure one. */
const fnv1a = (text: string): number => {
  let hash = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193) >>> 0
  }
  return hash
}

/** The item's key as one string: its key attributes sorted by name, so attribute order never matters. */
const itemKey = (record: DynamoDBRecord): string =>
  JSON.stringify(Object.entries(record.dynamodb?.Keys ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))

/**
 * The lane (0 to `factor - 1`) of a record: the hash of its item's key (here CustID and TnNum), as
 * Lambda keeps "in-order processing at the item (partition and sort key) level" while it processes up
 * to ParallelizationFactor batches of one shard at once (AWS Lambda Developer Guide, "Using AWS Lambda
 * with Amazon DynamoDB", concurrent reading of shards: https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html).
 */
export const laneOf = (record: DynamoDBRecord, factor: number): number => (factor <= 1 ? 0 : fnv1a(itemKey(record)) % factor)
