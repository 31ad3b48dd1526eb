/**
 * Row 5: backfill rate against the backfill a user would write by hand, on two fresh CustTransactions
 * (no stream): 50,000 rows over 5,000 customers, and a skewed one, 50 customers of 1,000 rows. The naive
 * backfill is a parallel Scan that sums each customer's rows in memory and then writes each total with
 * one PutItem (fast, and wrong beside a running stream); then `Backfill.run` (the same segments, its
 * default concurrency) recounts every customer into empty profiles; then, for scale, one blind
 * UpdateItem per customer. All on a DynamoDB Local of the row's own, one after the other. The note
 * gives the CPU each backfill took in Node and in DynamoDB Local (`CpuTime`): on 2 cores they compete.
 */
import { PutItemCommand, ScanCommand, UpdateItemCommand } from "@aws-sdk/client-dynamodb"
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb"
import * as Backfill from "@dyna/tools/ops/Backfill"
import * as Effect from "effect/Effect"
import { availableParallelism } from "node:os"
import * as CpuTime from "../support/CpuTime.js"
import * as FreshLocal from "../support/FreshLocal.js"
import * as LocalTables from "../support/LocalTables.js"
import * as Sdk from "../support/Sdk.js"
import { atLeast, type Bench, type Row, type Size } from "../Row.js"

const SEGMENTS = 4
/** BatchWriteItems in flight while loading. */
const LOADERS = 8
/** The target on backfill's rows per second, against the naive backfill's. */
const TARGET = 0.8

/** A table's shape: `customers` customers of `perCustomer` rows each. */
interface Shape {
  readonly label: string
  readonly customers: number
  readonly perCustomer: number
}

/** Rows round robin over the customers; values 1–197, so a customer of 10 rows ends past $1,000 about half the time. */
const rows = ({ customers, perCustomer }: Shape, label: string) =>
  Array.from({ length: customers * perCustomer }, (_, i) => Sdk.transaction(`${label}-${i % customers}`, i + 1, 1 + (i % 197)))

/**
 * The backfill a user would write by hand: a parallel Scan sums each customer's rows in memory, then
 * one PutItem per customer writes the total and status (no read, no condition, no log: a row the
 * stream counts meanwhile is lost or counted twice), as many in flight as the backfill recounts at
 * once, into a scratch profile table. Rows per second, over the whole run.
 */
const naiveBackfill = async (endpoint: string, local: FreshLocal.Local, db: DynamoDBClient, table: string) => {
  const { names } = await LocalTables.make(endpoint, "naive")
  const { value, spent } = await CpuTime.measure(local.pid, () => naiveRun(db, table, names.profiles))
  const { scanned, customers, scanMillis } = value
  return { scanned, customers, rate: scanned / (spent.millis / 1000), scanMillis, writeMillis: spent.millis - scanMillis, spent }
}

/** The naive backfill itself: its Scan summed, then its PutItems; how long the Scan took. */
const naiveRun = async (db: DynamoDBClient, table: string, profiles: string) => {
  const started = performance.now()
  const totals = new Map<string, number>()
  let scanned = 0
  await Promise.all(Array.from({ length: SEGMENTS }, async (_, segment) => {
    let startKey: Sdk.Item | undefined
    do {
      const page = await db.send(new ScanCommand({ TableName: table, Segment: segment, TotalSegments: SEGMENTS, ExclusiveStartKey: startKey }))
      for (const item of page.Items ?? []) {
        const custId = item["CustID"]?.S ?? ""
        totals.set(custId, (totals.get(custId) ?? 0) + Number(item["TnValue"]?.N ?? "0"))
        scanned++
      }
      startKey = page.LastEvaluatedKey
    } while (startKey !== undefined)
  }))
  const scanMillis = performance.now() - started
  const entries = [...totals]
  await Sdk.forEachConcurrently(entries.length, Backfill.DEFAULT_CONCURRENCY, async (i) => {
    const [custId, total] = entries[i] ?? ["", 0]
    await db.send(new PutItemCommand({
      TableName: profiles,
      Item: { CustID: { S: custId }, TotalTnValue: { N: String(total) }, CustStatus: { S: total >= 1000 ? "Elite" : "Normal" } }
    }))
  })
  return { scanned, customers: totals.size, scanMillis }
}

/**
 * The floor of any per-customer backfill: one blind UpdateItem (ADD, no read, no condition) per
 * customer, as many in flight as the backfill recounts at once, into a scratch profile table. Rows per
 * second, counting each customer's rows.
 */
const blindWrites = async (endpoint: string, db: DynamoDBClient, { customers, perCustomer }: Shape) => {
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
  return (customers * perCustomer) / ((performance.now() - started) / 1000)
}

/** Fresh tables loaded with the shape's rows. */
const loaded = async (endpoint: string, db: DynamoDBClient, shape: Shape, label: string = shape.label) => {
  const { names } = await LocalTables.make(endpoint, label)
  await Sdk.batchWriteAll(db, names.transactions, rows(shape, label), LOADERS)
  return names
}

const backfill = (endpoint: string, local: FreshLocal.Local, names: LocalTables.Names) =>
  CpuTime.measure(local.pid, () =>
    Effect.runPromise(
      Backfill.run({ segments: SEGMENTS }).pipe(Effect.provide(LocalTables.operationsLayer(endpoint, names)))
    ))

/** One table: the naive backfill, then ours, then the floor; one row of the table. */
const measure = async (
  endpoint: string,
  local: FreshLocal.Local,
  db: DynamoDBClient,
  name: string,
  shape: Shape,
  log: (line: string) => void
): Promise<Row> => {
  const count = shape.customers * shape.perCustomer
  const names = await loaded(endpoint, db, shape)
  log(`${shape.label}: loaded ${count} rows over ${shape.customers} customers`)

  const naive = await naiveBackfill(endpoint, local, db, names.transactions)
  if (naive.scanned !== count || naive.customers !== shape.customers) throw new Error(`the naive backfill read ${naive.scanned} rows, not ${count}`)
  log(`${shape.label}: naive backfill (Scan, sum, PutItem): ${naive.rate.toFixed(0)} rows/s`)

  const { value: summary, spent } = await backfill(endpoint, local, names)
  if (summary.scanned !== count || summary.applied !== count || summary.customers !== shape.customers || summary.skipped.length > 0) {
    throw new Error(`the backfill did not count every row once: ${JSON.stringify({ ...summary, skipped: summary.skipped.slice(0, 3) })}`)
  }
  const rate = Backfill.rowsPerSecond(summary)
  log(`${shape.label}: backfill: ${rate.toFixed(0)} rows/s`)
  const items = summary.changed + summary.promotions
  // On 2 cores Node and DynamoDB Local compete for the CPU: the rate the CPU each run took allows.
  const naiveCpu = CpuTime.total(naive.spent)
  const oursCpu = CpuTime.total(spent)
  const cpuBound = naiveCpu === undefined || oursCpu === undefined
    ? ""
    : ` Busy ${(naiveCpu / naive.spent.millis).toFixed(1)} and ${(oursCpu / spent.millis).toFixed(1)} cores on average: ` +
      `at the naive's CPU per second, ours' CPU allows ${(naiveCpu / oursCpu).toFixed(2)}× the naive rate.`

  const floor = await blindWrites(endpoint, db, shape)
  log(`${shape.label}: one blind UpdateItem per customer: ${floor.toFixed(0)} rows/s`)
  return atLeast({
    name,
    unit: "rows/s",
    dyna: rate,
    baselineName: `naive backfill (Scan, sum, PutItem)`,
    baseline: naive.rate,
    note: `${count} rows over ${shape.customers} customers (${shape.perCustomer} each, ${summary.promotions} of them promoted), ` +
      `empty profiles, ${SEGMENTS} segments, backfill at its default concurrency (${Backfill.DEFAULT_CONCURRENCY} writes ` +
      `in flight); every row counted once, checked. The naive backfill sums the same parallel Scan in memory and writes ` +
      `each total with one PutItem (${Backfill.DEFAULT_CONCURRENCY} in flight): no read, no condition, no log, so wrong beside ` +
      `the stream. Ours reads the Scan's pages strongly consistent and recounts each customer from them, deciding on ` +
      `its share of a consistent BatchGetItem (100 profiles, read while the batch before is written), and writes ` +
      `conditioned on the version read: one UpdateItem for a customer not promoted; for the promoted, each profile ` +
      `update with its EliteQualified event, up to 50 customers in one TransactWriteItems (a customer whose condition ` +
      `fails is recounted alone), a long applied log's pages put first. ` +
      `The naive backfill's time: Scan ${naive.scanMillis.toFixed(0)} ms, then ${naive.customers} PutItems ` +
      `${naive.writeMillis.toFixed(0)} ms. Ours wrote ${items} items (${summary.changed} profiles, ${summary.promotions} ` +
      `events; a long log's pages besides). ` +
      `CPU while each ran, on ${availableParallelism()} cores shared with DynamoDB Local: the naive backfill ` +
      `(${naive.spent.millis.toFixed(0)} ms) took ${CpuTime.describe(naive.spent)}; ours (${spent.millis.toFixed(0)} ms) ` +
      `${CpuTime.describe(spent)}.${cpuBound} ` +
      `The floor of any per-customer write, one blind UpdateItem per customer ` +
      `(no read, no condition, ${Backfill.DEFAULT_CONCURRENCY} in flight), alone runs at ${floor.toFixed(0)} rows/s.`
  }, TARGET)
}

export const bench: Bench = ({ size, log }) => FreshLocal.run((endpoint, local) => measureBoth(endpoint, local, size, log))

/** Both tables, after an unmeasured warm-up of each shape. */
const measureBoth = async (endpoint: string, local: FreshLocal.Local, size: Size, log: (line: string) => void): Promise<ReadonlyArray<Row>> => {
  const smoke = size === "smoke"
  const uniform: Shape = { label: "backfill", customers: smoke ? 200 : 5_000, perCustomer: 10 }
  const skewed: Shape = { label: "skewed", customers: smoke ? 5 : 50, perCustomer: smoke ? 400 : 1_000 }
  const db = Sdk.client(endpoint)
  try {
    // Warm up DynamoDB Local's JVM and our code on small tables of both shapes, unmeasured.
    await backfill(endpoint, local, await loaded(endpoint, db, { label: "bfwarm", customers: 200, perCustomer: 10 }))
    await backfill(endpoint, local, await loaded(endpoint, db, { label: "bfwarmskew", customers: 2, perCustomer: 1_000 }))
    await naiveBackfill(endpoint, local, db, (await loaded(endpoint, db, { label: "nvwarm", customers: 200, perCustomer: 10 })).transactions)
    return [
      await measure(endpoint, local, db, `5. backfill rate (${uniform.customers} × ${uniform.perCustomer})`, uniform, log),
      await measure(endpoint, local, db, `5. backfill rate, skewed (${skewed.customers} × ${skewed.perCustomer})`, skewed, log)
    ]
  } finally {
    db.destroy()
  }
}
