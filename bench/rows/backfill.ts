/**
 * Row 5: backfill rate against a raw parallel Scan of the same rows. A fresh CustTransactions (no
 * stream) is loaded with BatchWriteItems; a plain SDK parallel Scan reads every row; then
 * `Backfill.run` (the same segments, its default concurrency) recounts every customer into empty
 * profiles; then, for scale, one blind UpdateItem per customer. All on the same DynamoDB Local, one
 * after the other.
 */
import { ScanCommand, UpdateItemCommand } from "@aws-sdk/client-dynamodb"
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb"
import * as Backfill from "@dyna/tools/ops/Backfill"
import * as Effect from "effect/Effect"
import * as LocalTables from "../support/LocalTables.js"
import * as Sdk from "../support/Sdk.js"
import { atLeast, type Bench } from "../Row.js"

const SEGMENTS = 4
/** Rows per customer: 50,000 rows over 5,000 customers. */
const ROWS_PER_CUSTOMER = 10
/** BatchWriteItems in flight while loading. */
const LOADERS = 8

/** `count` rows round robin over `count / ROWS_PER_CUSTOMER` customers; about half of them end past $1,000 (Elite). */
const rows = (label: string, count: number) => {
  const customers = count / ROWS_PER_CUSTOMER
  return Array.from({ length: count }, (_, i) => Sdk.transaction(`${label}-${i % customers}`, i + 1, 1 + (i % 197)))
}

/** Reads every row of `table` with `segments` Scans side by side, as a user's own script would; returns how many. */
const parallelScan = async (db: DynamoDBClient, table: string, segments: number) => {
  const counts = await Promise.all(Array.from({ length: segments }, async (_, segment) => {
    let count = 0
    let startKey: Sdk.Item | undefined
    do {
      const page = await db.send(new ScanCommand({ TableName: table, Segment: segment, TotalSegments: segments, ExclusiveStartKey: startKey }))
      count += page.Items?.length ?? 0
      startKey = page.LastEvaluatedKey
    } while (startKey !== undefined)
    return count
  }))
  return counts.reduce((a, b) => a + b, 0)
}

/**
 * The floor of any per-customer backfill: one blind UpdateItem (ADD, no read, no condition) per
 * customer, as many in flight as the backfill recounts at once, into a scratch profile table. Rows per
 * second, counting each customer's rows.
 */
const blindWrites = async (endpoint: string, db: DynamoDBClient, customers: number) => {
  const { names } = await LocalTables.make(endpoint, "blind")
  const started = performance.now()
  await Sdk.forEachConcurrently(customers, Backfill.DEFAULT_CONCURRENCY, async (i) => {
    await db.send(new UpdateItemCommand({
      TableName: names.profiles,
      Key: { CustID: { S: `blind-${i}` } },
      UpdateExpression: "ADD TotalTnValue :v",
      ExpressionAttributeValues: { ":v": { N: "1" } }
    }))
  })
  return (customers * ROWS_PER_CUSTOMER) / ((performance.now() - started) / 1000)
}

/** Fresh tables loaded with `count` rows. */
const loaded = async (endpoint: string, db: DynamoDBClient, label: string, count: number) => {
  const { names } = await LocalTables.make(endpoint, label)
  await Sdk.batchWriteAll(db, names.transactions, rows(label, count), LOADERS)
  return names
}

const backfill = (endpoint: string, names: LocalTables.Names) =>
  Effect.runPromise(Backfill.run({ segments: SEGMENTS }).pipe(Effect.provide(LocalTables.appLayer(endpoint, names))))

export const bench: Bench = async ({ endpoint, size, log }) => {
  const count = size === "smoke" ? 2_000 : 50_000
  const customers = count / ROWS_PER_CUSTOMER
  const db = Sdk.client(endpoint)
  try {
    // Warm up DynamoDB Local's JVM and our code on a small table of the same shape, unmeasured.
    await backfill(endpoint, await loaded(endpoint, db, "bfwarm", 2_000))

    const names = await loaded(endpoint, db, "backfill", count)
    log(`loaded ${count} rows over ${customers} customers`)
    await parallelScan(db, names.transactions, SEGMENTS)
    const scanStarted = performance.now()
    const scanned = await parallelScan(db, names.transactions, SEGMENTS)
    const scanRate = scanned / ((performance.now() - scanStarted) / 1000)
    if (scanned !== count) throw new Error(`the Scan read ${scanned} rows, not ${count}`)
    log(`raw parallel Scan: ${scanRate.toFixed(0)} rows/s`)

    const summary = await backfill(endpoint, names)
    if (summary.scanned !== count || summary.applied !== count || summary.customers !== customers || summary.skipped.length > 0) {
      throw new Error(`the backfill did not count every row once: ${JSON.stringify({ ...summary, skipped: summary.skipped.slice(0, 3) })}`)
    }
    const rate = Backfill.rowsPerSecond(summary)
    log(`backfill: ${rate.toFixed(0)} rows/s`)
    const floor = await blindWrites(endpoint, db, customers)
    log(`one blind UpdateItem per customer: ${floor.toFixed(0)} rows/s`)
    return [atLeast({
      name: "5. backfill rate",
      unit: "rows/s",
      dyna: rate,
      baselineName: `raw parallel Scan (${SEGMENTS} segments)`,
      baseline: scanRate,
      note: `${count} rows over ${customers} customers (${ROWS_PER_CUSTOMER} each, ${summary.promotions} of them promoted), ` +
        `empty profiles, ${SEGMENTS} segments, backfill at its default concurrency (${Backfill.DEFAULT_CONCURRENCY} customers ` +
        `at once); every row counted once, checked. Each customer costs its share of a consistent BatchGetItem (100 ` +
        `profiles), a consistent Query of its rows and a conditional write (a transaction when promoted); the Scan reads about 1 MB per request. The floor of ` +
        `any per-customer write, one blind UpdateItem per customer (no read, no condition, ${Backfill.DEFAULT_CONCURRENCY} in ` +
        `flight), runs at ${floor.toFixed(0)} rows/s, ${(floor / scanRate).toFixed(2)}× the Scan.`
    }, 0.5)]
  } finally {
    db.destroy()
  }
}
