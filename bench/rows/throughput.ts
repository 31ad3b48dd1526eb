/**
 * Row 3: sustained throughput, the rate the whole pipeline drains a streamed table against the rate a
 * writer puts rows into that same streamed table (the rate a shop front-end actually writes at). If the
 * first is at least the second, the pipeline never falls behind its writer. Each point (mix and
 * factor) runs on a DynamoDB Local of its own.
 *
 * - Writer: 16 PutItems in flight, as fast as DynamoDB Local takes them, into CustTransactions with its
 *   NEW_IMAGE stream on (as deployed) and nothing reading it: the baseline.
 * - Dyna Elite: then the runner (from TRIM_HORIZON, the deployment's mapping settings at the point's
 *   `ParallelizationFactor`) and the real handler, in this process, drain those rows: rows over the time
 *   from the first invocation to the moment the handler has counted the last row. Profile totals are
 *   checked against the rows.
 * - Both side by side as well, on fresh tables: the writer beside the running pipeline, and how far
 *   behind the pipeline was when the writer stopped. That is in the note, not the ratio: on one 2-core
 *   machine, the writer, DynamoDB Local and the pipeline take turns on the same cores.
 *
 * - The Powertools handler (batch, idempotency, parser, logger; `baselines/powertools`) behind the same
 *   runner at the same settings, draining rows the same writer put into fresh tables: Dyna Elite's drain
 *   rate against its (one execution environment per concurrent invocation, as Lambda runs them).
 *
 * Two mixes, as in row 1: every 100 consecutive rows hold 10 customers (10 rows each), or 100 (one
 * each); each at parallelization factor 1 (the deployment's) and 4.
 */
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb"
import { ScanCommand } from "@aws-sdk/client-dynamodb"
import * as Deployment from "@dyna/aws/Deployment"
import { DynamoDb } from "@dyna/aws/DynamoDb"
import { ensureTable } from "@dyna/tools/provision/TableSteps"
import * as Effect from "effect/Effect"
import * as FreshLocal from "../support/FreshLocal.js"
import * as LocalTables from "../support/LocalTables.js"
import * as Pipeline from "../support/Pipeline.js"
import * as Powertools from "../baselines/powertools.js"
import * as Sdk from "../support/Sdk.js"
import { atLeast, type Bench, type Row } from "../Row.js"

/** PutItems in flight at once. */
const WRITERS = 16
/** The mapping's `ParallelizationFactor` at each point: the deployment's, and 4 batches per shard at once. */
const FACTORS = [1, 4] as const
/** Rows put, unmeasured, before measuring. */
const WARM_UP = { full: 1_000, smoke: 100 } as const

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

/** Starts the pipeline on `names` at parallelization `factor` and notes when its first invocation began. */
const startPipeline = (endpoint: string, names: LocalTables.Names, streamArn: string, factor: number, fn?: Pipeline.Options["function"]) => {
  let firstInvokedAt = Number.POSITIVE_INFINITY
  const pipeline = Pipeline.start(endpoint, names, streamArn, {
    ...(fn === undefined ? {} : { function: fn }),
    settings: { ...Deployment.mappingSettings, parallelizationFactor: factor },
    onInvoke: (_, startedAt) => {
      firstInvokedAt = Math.min(firstInvokedAt, startedAt)
    }
  })
  return { pipeline, firstInvokedAt: () => firstInvokedAt }
}

/** The writer alone into a fresh stream-enabled table, then the pipeline draining what it wrote. */
const writerThenPipeline = async (endpoint: string, db: DynamoDBClient, count: number, perHundred: number, factor: number) => {
  const { names, streamArn } = await LocalTables.makeStreamed(endpoint, `tp${perHundred}f${factor}`)
  const work = rows(`tp${perHundred}f${factor}`, count, perHundred)
  const writerRate = count / ((await Sdk.putAll(db, names.transactions, work, WRITERS)) / 1000)
  const { pipeline, firstInvokedAt } = startPipeline(endpoint, names, streamArn, factor)
  try {
    const countedAt = await pipeline.handledReach(count, 600_000)
    await checkTotals(db, names.profiles, work)
    return { writerRate, pipelineRate: count / ((countedAt - firstInvokedAt()) / 1000), invocations: pipeline.progress().batches }
  } finally {
    await pipeline.stop()
  }
}

/** The writer alone into fresh stream-enabled tables, then the runner and the Powertools handler draining what it wrote. */
const writerThenPowertools = async (endpoint: string, db: DynamoDBClient, count: number, perHundred: number, factor: number) => {
  const { names, streamArn } = await LocalTables.makeStreamed(endpoint, `pt${perHundred}f${factor}`)
  const idempotency = `${names.transactions}-idempotency`
  await Effect.runPromise(ensureTable(Powertools.idempotencyTable(idempotency)).pipe(Effect.provideService(DynamoDb, DynamoDb.fromClient(db, endpoint))))
  const work = rows(`pt${perHundred}f${factor}`, count, perHundred)
  const writerRate = count / ((await Sdk.putAll(db, names.transactions, work, WRITERS)) / 1000)
  const fn = Powertools.environments(() => Sdk.client(endpoint), { profiles: names.profiles, idempotency })
  const { pipeline, firstInvokedAt } = startPipeline(endpoint, names, streamArn, factor, fn)
  try {
    const countedAt = await pipeline.handledReach(count, 600_000)
    await checkTotals(db, names.profiles, work)
    return { writerRate, pipelineRate: count / ((countedAt - firstInvokedAt()) / 1000), invocations: pipeline.progress().batches, environments: fn.count() }
  } finally {
    await pipeline.stop()
  }
}

/** The writer beside the running pipeline: what it managed, and how long the pipeline took to finish after it. */
const sideBySide = async (endpoint: string, db: DynamoDBClient, count: number, perHundred: number, factor: number) => {
  const { names, streamArn } = await LocalTables.makeStreamed(endpoint, `sbs${perHundred}f${factor}`)
  const { pipeline } = startPipeline(endpoint, names, streamArn, factor)
  try {
    await pipeline.ready(30_000)
    const work = rows(`sbs${perHundred}f${factor}`, count, perHundred)
    const started = performance.now()
    const writerMillis = await Sdk.putAll(db, names.transactions, work, WRITERS)
    const countedAt = await pipeline.handledReach(count, 600_000)
    await checkTotals(db, names.profiles, work)
    return { writerRate: count / (writerMillis / 1000), lagMillis: countedAt - started - writerMillis }
  } finally {
    await pipeline.stop()
  }
}

/** One point of the row: a mix at a parallelization factor. */
interface Point {
  readonly perHundred: number
  readonly factor: number
  readonly alone: Awaited<ReturnType<typeof writerThenPipeline>>
  readonly together: Awaited<ReturnType<typeof sideBySide>>
  readonly powertools: Awaited<ReturnType<typeof writerThenPowertools>>
}

/**
 * One point on a fresh DynamoDB Local: DynamoDB Local slows down as its streams fill (a writer at factor 4
 * after factor 1 on the same instance managed a sixth of the rate), so no point inherits another's.
 */
const measurePoint = (count: number, warmUp: number, perHundred: number, factor: number, log: (line: string) => void) =>
  FreshLocal.run(async (endpoint): Promise<Point> => {
    const db = Sdk.client(endpoint)
    try {
      // DynamoDB Local's JVM compiles its hot paths over the first several thousand requests, and our
      // code warms up too: one small round of each, unmeasured.
      await writerThenPipeline(endpoint, db, warmUp, perHundred, factor)
      await writerThenPowertools(endpoint, db, warmUp, perHundred, factor)
      const alone = await writerThenPipeline(endpoint, db, count, perHundred, factor)
      log(`${perHundred} customers per 100 rows, factor ${factor}: writer ${alone.writerRate.toFixed(0)} rows/s into the streamed table, pipeline ${alone.pipelineRate.toFixed(0)} rows/s`)
      const together = await sideBySide(endpoint, db, count, perHundred, factor)
      log(`  side by side: writer ${together.writerRate.toFixed(0)} rows/s, last row counted ${together.lagMillis.toFixed(0)} ms after the last put`)
      const powertools = await writerThenPowertools(endpoint, db, count, perHundred, factor)
      log(`  Powertools handler behind the same runner: ${powertools.pipelineRate.toFixed(0)} rows/s`)
      return { perHundred, factor, alone, together, powertools }
    } finally {
      db.destroy()
    }
  })

/** The row of one point: the pipeline's drain rate against its writer's rate into the same streamed table. */
const pointRow = (count: number, { perHundred, factor, alone, together }: Point): Row =>
  atLeast({
    name: `3. sustained throughput (${perHundred} customers per 100 rows, factor ${factor})`,
    unit: "tx/s",
    dyna: alone.pipelineRate,
    baselineName: "writer into the same streamed table",
    baseline: alone.writerRate,
    note: `${count} rows in runs of 100 over ${perHundred} customers, on a DynamoDB Local of its own. Writer: ${WRITERS} ` +
      `PutItems in flight into CustTransactions with its NEW_IMAGE stream on, nothing reading. Dyna Elite: then the runner ` +
      `(ParallelizationFactor ${factor}) and the real handler (in this process) draining those rows, first invocation → last ` +
      `row counted, profile totals checked (${alone.invocations} invocations). Side by side on fresh tables, the writer ` +
      `managed ${together.writerRate.toFixed(0)} rows/s and the last row was counted ${together.lagMillis.toFixed(0)} ms ` +
      `after the last put.`
  }, 1.0)

/** The row of one point against the Powertools handler: both drain rates behind the same runner. */
const powertoolsRow = (count: number, { perHundred, factor, alone, powertools }: Point): Row =>
  atLeast({
    name: `3. sustained throughput (${perHundred} customers per 100 rows, factor ${factor})`,
    unit: "tx/s",
    dyna: alone.pipelineRate,
    baselineName: "Powertools handler, same runner",
    baseline: powertools.pipelineRate,
    note: `${count} rows, the same writer into fresh tables (${powertools.writerRate.toFixed(0)} rows/s), then the runner ` +
      `(ParallelizationFactor ${factor}) invoking the Powertools handler (batch, idempotency keyed on CustID + TnNum, ` +
      `parser, logger; records of a batch in parallel, as BatchProcessor does) in this process, first invocation → last ` +
      `row counted, profile totals checked (${powertools.invocations} invocations, ${powertools.environments} execution ` +
      `environment${powertools.environments === 1 ? "" : "s"})`
  }, 1.5)

export const bench: Bench = async ({ size, log }) => {
  const count = size === "smoke" ? 500 : 5_000
  const out: Array<Row> = []
  for (const perHundred of [10, 100]) {
    for (const factor of FACTORS) {
      const point = await measurePoint(count, WARM_UP[size], perHundred, factor, log)
      out.push(pointRow(count, point), powertoolsRow(count, point))
    }
  }
  return out
}
