/**
 * The plain AWS SDK, as a user's own script would call it: a client for the bench's DynamoDB Local,
 * a concurrent PutItem writer and a parallel BatchWriteItem loader. Baselines and workloads use it,
 * so what they measure is DynamoDB Local and the SDK, not our code.
 */
import { type AttributeValue, BatchWriteItemCommand, DynamoDBClient, PutItemCommand } from "@aws-sdk/client-dynamodb"

export type Item = Record<string, AttributeValue>

/** A client with the SDK's defaults and placeholder credentials (DynamoDB Local checks none). */
export const client = (endpoint: string) =>
  new DynamoDBClient({ endpoint, region: "us-east-1", credentials: { accessKeyId: "bench", secretAccessKey: "bench" } })

/** One CustTransactions row. */
export const transaction = (custId: string, tnNum: number, tnValue: number): Item => ({
  CustID: { S: custId },
  TnNum: { N: String(tnNum) },
  TnValue: { N: String(tnValue) }
})

/** Runs `work(i)` for every i below `count`, `concurrency` at a time, in order of i. */
export const forEachConcurrently = async (count: number, concurrency: number, work: (i: number) => Promise<void>) => {
  let next = 0
  const worker = async () => {
    while (next < count) await work(next++)
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker))
}

/** Puts every item with `concurrency` PutItems in flight; returns the milliseconds it took. */
export const putAll = async (db: DynamoDBClient, table: string, items: ReadonlyArray<Item>, concurrency: number) => {
  const started = performance.now()
  await forEachConcurrently(items.length, concurrency, async (i) => {
    await db.send(new PutItemCommand({ TableName: table, Item: items[i] }))
  })
  return performance.now() - started
}

/** Writes every item in BatchWriteItems of 25, `concurrency` in flight, sending unprocessed items again. */
export const batchWriteAll = async (db: DynamoDBClient, table: string, items: ReadonlyArray<Item>, concurrency: number) => {
  const chunks = Array.from({ length: Math.ceil(items.length / 25) }, (_, i) => items.slice(i * 25, i * 25 + 25))
  await forEachConcurrently(chunks.length, concurrency, async (i) => {
    let requests = (chunks[i] ?? []).map((Item) => ({ PutRequest: { Item } }))
    while (requests.length > 0) {
      const out = await db.send(new BatchWriteItemCommand({ RequestItems: { [table]: requests } }))
      requests = (out.UnprocessedItems?.[table] ?? []).flatMap((r) => (r.PutRequest?.Item === undefined ? [] : [{ PutRequest: { Item: r.PutRequest.Item } }]))
    }
  })
}
