/**
 * Row 3: sustained throughput, the rate the pipeline applies transactions against the rate a writer
 * alone can put them into the same DynamoDB Local. If the first is at least the second, the pipeline
 * cannot fall behind however fast the shop writes. Each mix runs on a DynamoDB Local of its own.
 *
 * - Raw: 16 PutItems in flight, as fast as DynamoDB Local takes them, into a table with no stream, just
 *   before and just after the pipeline's run (the mean of the two is the baseline).
 * - Dyna Elite: the same writer into CustTransactions with its NEW_IMAGE stream on (as deployed) and
 *   nothing reading it; then the runner (from TRIM_HORIZON) and the real handler, in this process, drain
 *   those rows: rows over the time from the first invocation to the moment the handler has counted the
 *   last row. Profile totals are checked against the rows.
 * - Both side by side as well, on fresh tables: the writer beside the running pipeline, and how far
 *   behind the pipeline was when the writer stopped. That is in the note, not the ratio: on one 2-core
 *   machine, the writer, DynamoDB Local and the pipeline take turns on the same cores.
 *
 * Two mixes, as in row 1: every 100 consecutive rows hold 10 customers (10 rows each), or 100 (one each).
 */
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb"
import { ScanCommand } from "@aws-sdk/client-dynamodb"
import { scopedInMemory } from "@dyna/tools/local/DynamoDbLocal"
import * as Effect from "effect/Effect"
import * as LocalTables from "../support/LocalTables.js"
import * as Pipeline from "../support/Pipeline.js"
import * as Sdk from "../support/Sdk.js"
import { atLeast, type Bench, type Row } from "../Row.js"

/** PutItems in flight at once. */
const WRITERS = 16
/** Rows put, unmeasured, before measuring. */
const WARM_UP = { full: 5_000, smoke: 300 } as const

/**
 * `count` rows in runs of 100, each run spread round robin over `perHundred` customers of its own: a
 * stream batch of 100 meets about that many customers, and no profile's applied log grows past 100 ids.
 */
const rows = (label: string, count: number, perHundred: number) =>
  Array.from({ length: count }, (_, i) => Sdk.transaction(`${label}-${Math.floor(i / 100)}-${i % perHundred}`, i + 1, 1 + (i % 97)))

const sumOf = (items: ReadonlyArray<Sdk.Item>) => items.reduce((sum, item) => sum + Number(item.TnValue?.N ?? 0), 0)

/** The sum of every profile's TotalTnValue, read with a plain consistent Scan. */
const profileTotal = async (db: DynamoDBClient, table: string) => {
  let sum = 0
  let startKey: Sdk.Item | undefined
  do {
    const page = await db.send(new ScanCommand({ TableName: table, ExclusiveStartKey: startKey, ConsistentRead: true }))
    for (const item of page.Items ?? []) sum += Number(item.TotalTnValue?.N ?? 0)
    startKey = page.LastEvaluatedKey
  } while (startKey !== undefined)
  return sum
}

const checkTotals = async (db: DynamoDBClient, table: string, items: ReadonlyArray<Sdk.Item>) => {
  const counted = await profileTotal(db, table)
  if (counted !== sumOf(items)) throw new Error(`the profiles add up to ${counted}, not ${sumOf(items)}`)
}

/** Starts the pipeline on `names` and notes when its first invocation began. */
const startPipeline = (endpoint: string, names: LocalTables.Names, streamArn: string) => {
  let firstInvokedAt = Number.POSITIVE_INFINITY
  const pipeline = Pipeline.start(endpoint, names, streamArn, {
    onInvoke: (_, startedAt) => {
      firstInvokedAt = Math.min(firstInvokedAt, startedAt)
    }
  })
  return { pipeline, firstInvokedAt: () => firstInvokedAt }
}

/** The writer alone into a fresh stream-enabled table, then the pipeline draining what it wrote. */
const writerThenPipeline = async (endpoint: string, db: DynamoDBClient, count: number, perHundred: number) => {
  const { names, streamArn } = await LocalTables.makeStreamed(endpoint, `tp${perHundred}`)
  const work = rows(`tp${perHundred}`, count, perHundred)
  const writerRate = count / ((await Sdk.putAll(db, names.transactions, work, WRITERS)) / 1000)
  const { pipeline, firstInvokedAt } = startPipeline(endpoint, names, streamArn)
  try {
    const countedAt = await pipeline.handledReach(count, 600_000)
    await checkTotals(db, names.profiles, work)
    return { writerRate, pipelineRate: count / ((countedAt - firstInvokedAt()) / 1000), invocations: pipeline.progress().batches }
  } finally {
    await pipeline.stop()
  }
}

/** The writer beside the running pipeline: what it managed, and how long the pipeline took to finish after it. */
const sideBySide = async (endpoint: string, db: DynamoDBClient, count: number, perHundred: number) => {
  const { names, streamArn } = await LocalTables.makeStreamed(endpoint, `sbs${perHundred}`)
  const { pipeline } = startPipeline(endpoint, names, streamArn)
  try {
    await pipeline.ready(30_000)
    const work = rows(`sbs${perHundred}`, count, perHundred)
    const started = performance.now()
    const writerMillis = await Sdk.putAll(db, names.transactions, work, WRITERS)
    const countedAt = await pipeline.handledReach(count, 600_000)
    await checkTotals(db, names.profiles, work)
    return { writerRate: count / (writerMillis / 1000), lagMillis: countedAt - started - writerMillis }
  } finally {
    await pipeline.stop()
  }
}

/** Runs `work` against a DynamoDB Local of its own, started in memory and stopped after. */
const onFreshDynamoDbLocal = <A>(work: (endpoint: string) => Promise<A>) =>
  Effect.runPromise(Effect.scoped(Effect.flatMap(scopedInMemory, ({ endpoint }) => Effect.promise(() => work(endpoint)))))

/** The writer alone into a fresh table with no stream: rows per second. */
const rawRate = async (endpoint: string, db: DynamoDBClient, count: number, perHundred: number) => {
  const { names } = await LocalTables.make(endpoint, "plain")
  return count / ((await Sdk.putAll(db, names.transactions, rows("plain", count, perHundred), WRITERS)) / 1000)
}

/** One mix on a fresh DynamoDB Local: DynamoDB Local slows down as its streams fill, so no mix inherits another's. */
const measureMix = (count: number, warmUp: number, perHundred: number, log: (line: string) => void) =>
  onFreshDynamoDbLocal(async (endpoint) => {
    const db = Sdk.client(endpoint)
    try {
      // DynamoDB Local's JVM compiles its hot paths over the first several thousand requests (the raw rate
      // keeps rising for a while), and our code warms up too: one small round of each, unmeasured.
      await rawRate(endpoint, db, warmUp, perHundred)
      await writerThenPipeline(endpoint, db, warmUp / 5, perHundred)
      // The writer alone just before and just after: its rate still drifts as the JVM warms, and the mean
      // of its neighbours is what the pipeline is compared with.
      const rawBefore = await rawRate(endpoint, db, count, perHundred)
      const alone = await writerThenPipeline(endpoint, db, count, perHundred)
      const rawAfter = await rawRate(endpoint, db, count, perHundred)
      const raw = (rawBefore + rawAfter) / 2
      log(`${perHundred} customers per 100 rows: writer alone ${raw.toFixed(0)} rows/s (${alone.writerRate.toFixed(0)} with the stream on), pipeline ${alone.pipelineRate.toFixed(0)} rows/s`)
      const together = await sideBySide(endpoint, db, count, perHundred)
      log(`  side by side: writer ${together.writerRate.toFixed(0)} rows/s, last row counted ${together.lagMillis.toFixed(0)} ms after the last put`)
      return { raw, rawBefore, rawAfter, alone, together }
    } finally {
      db.destroy()
    }
  })

export const bench: Bench = async ({ size, log }) => {
  const count = size === "smoke" ? 500 : 5_000
  const out: Array<Row> = []
  for (const perHundred of [10, 100]) {
    const { raw, rawBefore, rawAfter, alone, together } = await measureMix(count, WARM_UP[size], perHundred, log)
    out.push(atLeast({
      name: `3. sustained throughput (${perHundred} customers per 100 rows)`,
      unit: "tx/s",
      dyna: alone.pipelineRate,
      baselineName: "raw PutItem (writer alone)",
      baseline: raw,
      note: `${count} rows in runs of 100 over ${perHundred} customers, on a DynamoDB Local of its own. Raw: ${WRITERS} ` +
        `PutItems in flight into a table with no stream, just before and just after (${rawBefore.toFixed(0)}, ` +
        `${rawAfter.toFixed(0)} rows/s). Dyna Elite: the same writer into CustTransactions with its stream ` +
        `on (${alone.writerRate.toFixed(0)} rows/s: DynamoDB Local's stream slows every write), then the runner and the ` +
        `real handler (in this process) draining those rows, first invocation → last row counted, profile totals checked ` +
        `(${alone.invocations} invocations). Side by side on fresh tables, the writer managed ` +
        `${together.writerRate.toFixed(0)} rows/s and the last row was counted ${together.lagMillis.toFixed(0)} ms after the ` +
        `last put.`
    }, 0.8))
  }
  return out
}
