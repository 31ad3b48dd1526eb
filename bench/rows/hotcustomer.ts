/**
 * Row 6: the hot customer's cost curve. One customer buying all day: 100, 1,000, 10,000 and 40,000
 * purchases inside the applied-log window (`AppliedLog.RETENTION_SECONDS`, 25 hours), in stream batches
 * of 100 spread evenly over 24 hours, through the real handler on a client that asks every call for
 * `ReturnConsumedCapacity` (as row 1 does) and on a clock the bench moves on between batches (as
 * `packages/aws/test/ProfileStore.test.ts` does). The safety issue bounds the profile's log by moving it
 * to page items past a kilobyte, so a hot customer is never quarantined for a profile past 400 KB; this
 * row measures what that costs in write units per purchase, against the Powertools baseline at the same
 * points. Target: flat, the 40,000 point at most twice the 100 point.
 *
 * The Powertools baseline writes per record (its idempotency record, the profile), so what came before a
 * purchase does not change what it costs; past `POWERTOOLS_SAMPLE` purchases it is measured on the
 * window's first `POWERTOOLS_SAMPLE` (its calls, three a record, would take minutes at 40,000), which the note says.
 */
import { DynamoDBClient, GetItemCommand, ScanCommand } from "@aws-sdk/client-dynamodb"
import { services } from "@dyna/aws/AppLayer"
import { DynamoDb } from "@dyna/aws/DynamoDb"
import * as Handler from "@dyna/aws/Handler"
import { Tables } from "@dyna/aws/Tables"
import * as AppliedLog from "@dyna/core/AppliedLog"
import * as Events from "@dyna/core/Events"
import { ensureTable, eventsTable, profilesTable, rejectedTable } from "@dyna/tools/provision/TableSteps"
import type { DynamoDBRecord } from "aws-lambda"
import * as Clock from "effect/Clock"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as References from "effect/References"
import * as Powertools from "../baselines/powertools/handler.js"
import * as PowertoolsTables from "../baselines/powertools/table.js"
import { atMost, type Bench, type Row } from "../Row.js"
import * as Metered from "../support/Metered.js"

const BATCH = 100
const DAY_SECONDS = 24 * 60 * 60
/** Purchases of one customer inside the window, at each point of the curve. */
const POINTS = { full: [100, 1_000, 10_000, 40_000], smoke: [100, 1_000] } as const
/** How many of a point's purchases the Powertools baseline is measured on (all of them, up to this). */
const POWERTOOLS_SAMPLE = { full: 500, smoke: 100 } as const

interface Units {
  write: number
  read: number
  /** Calls sent, of any kind. */
  calls: number
}

/** A real client that asks for, and adds up, the capacity every call consumed (as row 1's). */
const meteredClient = (endpoint: string, units: Units) =>
  Metered.client(endpoint, ({ capacity, isRead }) => {
    units[isRead ? "read" : "write"] += capacity
    units.calls++
  })

/** A clock `shift` seconds ahead of the real one: the bench moves it on between batches. */
const shiftedClock = () => {
  const state = { shift: 0 }
  const now = () => Date.now() + state.shift * 1000
  const clock: Clock.Clock = {
    currentTimeMillisUnsafe: now,
    currentTimeMillis: Effect.sync(now),
    currentTimeNanosUnsafe: () => BigInt(now()) * 1_000_000n,
    currentTimeNanos: Effect.sync(() => BigInt(now()) * 1_000_000n),
    monotonicTimeNanosUnsafe: () => process.hrtime.bigint(),
    monotonicTimeNanos: Effect.sync(() => process.hrtime.bigint()),
    sleep: (duration) => Effect.sleep(duration).pipe(Effect.provideService(Clock.Clock, Clock.Clock.defaultValue()))
  }
  return { clock, advance: (seconds: number) => void (state.shift += seconds) }
}

/**
 * The `i`th TnNum of the customer: increasing, with uneven gaps (a shop numbers every customer's
 * purchases from one sequence), so that ids do not collapse into runs and the log fills up (as the test's).
 */
const tnNumOf = (i: number) => 1_000_000 + i * 13 + ((i * 7) % 5)

let sequence = 0
/** `count` purchases of `custId` in batches of `BATCH`, value 1–9 each. */
const purchases = (custId: string, count: number): Array<Array<DynamoDBRecord>> => {
  const records = Array.from({ length: count }, (_, i) => {
    const tnNum = tnNumOf(i)
    return Events.insert({ custId, tnNum, tnValue: 1 + (tnNum % 9), sequenceNumber: Events.sequenceNumber(++sequence) })
  })
  return Array.from({ length: Math.ceil(count / BATCH) }, (_, i) => records.slice(i * BATCH, (i + 1) * BATCH))
}

const valueOf = (batches: ReadonlyArray<ReadonlyArray<DynamoDBRecord>>) =>
  batches.flat().reduce((sum, r) => sum + Number(r.dynamodb?.NewImage?.TnValue?.N ?? 0), 0)

interface Measured {
  /** Write and read units per purchase. */
  readonly write: number
  readonly read: number
  /** Calls per batch of 100, and the handler's wall time per batch (ms, DynamoDB Local on this machine). */
  readonly callsPerBatch: number
  readonly msPerBatch: number
  /** Page items (CustEliteEvents rows whose sort key starts with "-") the log moved to; Dyna Elite only. */
  readonly pages: number
  readonly purchases: number
}

const profileTotal = async (client: DynamoDBClient, table: string, custId: string) => {
  const out = await client.send(new GetItemCommand({ TableName: table, Key: { CustID: { S: custId } }, ConsistentRead: true }))
  return Number(out.Item?.TotalTnValue?.N ?? 0)
}

const scanAll = async (client: DynamoDBClient, table: string) => {
  const items = []
  let start: Record<string, import("@aws-sdk/client-dynamodb").AttributeValue> | undefined
  do {
    const out = await client.send(new ScanCommand({ TableName: table, ConsistentRead: true, ExclusiveStartKey: start }))
    items.push(...(out.Items ?? []))
    start = out.LastEvaluatedKey
  } while (start !== undefined)
  return items
}

/** `perWindow` purchases of one customer through Dyna Elite's real handler, on tables of their own. */
const measureDyna = async (endpoint: string, perWindow: number): Promise<Measured> => {
  const units: Units = { write: 0, read: 0, calls: 0 }
  const client = meteredClient(endpoint, units)
  const prefix = `hot-dyna-${perWindow}`
  const names = { transactions: `${prefix}-tx`, profiles: `${prefix}-profile`, rejected: `${prefix}-rejected`, events: `${prefix}-events` }
  const db = Layer.succeed(DynamoDb, DynamoDb.fromClient(client, endpoint))
  await Effect.runPromise(Effect.all([
    ensureTable(profilesTable(names.profiles)),
    ensureTable(rejectedTable(names.rejected)),
    ensureTable(eventsTable(names.events))
  ]).pipe(Effect.provide(db)))
  const time = shiftedClock()
  const made = Handler.make(services.pipe(
    Layer.provideMerge(Layer.mergeAll(db, Layer.succeed(Tables, Tables.of(names)), Layer.succeed(Clock.Clock, time.clock))),
    Layer.provideMerge(Layer.succeed(References.MinimumLogLevel, "None")),
    // The invocation's metrics line (EMF) goes to Console.log: not onto the bench's table.
    Layer.provideMerge(Layer.succeed(Console.Console, { ...console, log: () => {} }))
  ))
  const custId = `hot-${perWindow}`
  const batches = purchases(custId, perWindow)
  units.write = 0
  units.read = 0
  units.calls = 0
  let busy = 0
  for (const batch of batches) {
    // Spread over a day, inside the 25-hour window: 40,000 a day is a batch every 216 seconds.
    time.advance(DAY_SECONDS / batches.length)
    const started = performance.now()
    const response = await made.handler(Events.batch(batch))
    busy += performance.now() - started
    if (response.batchItemFailures.length > 0) throw new Error(`Dyna Elite failed ${response.batchItemFailures.length} records of ${custId}`)
  }
  const measured = { write: units.write / perWindow, read: units.read / perWindow, callsPerBatch: units.calls / batches.length }
  await made.dispose()
  // Counted exactly once, none set aside: the cost is of the real thing.
  const total = await profileTotal(client, names.profiles, custId)
  if (total !== valueOf(batches)) throw new Error(`${custId}: profile total ${total}, purchases ${valueOf(batches)}`)
  const rejected = await scanAll(client, names.rejected)
  if (rejected.length > 0) throw new Error(`${custId}: ${rejected.length} purchases quarantined`)
  const pages = (await scanAll(client, names.events)).filter((item) => (item.ProfileVersion?.N ?? item.ProfileVersion?.S ?? "").startsWith("-")).length
  client.destroy()
  return { ...measured, msPerBatch: busy / batches.length, pages, purchases: perWindow }
}

/** The window's first `sample` purchases of one customer through the Powertools baseline. */
const measurePowertools = async (endpoint: string, perWindow: number, sample: number): Promise<Measured> => {
  const units: Units = { write: 0, read: 0, calls: 0 }
  const client = meteredClient(endpoint, units)
  const prefix = `hot-powertools-${perWindow}`
  const names = { profiles: `${prefix}-profile`, idempotency: `${prefix}-idempotency` }
  const db = Layer.succeed(DynamoDb, DynamoDb.fromClient(client, endpoint))
  await Effect.runPromise(Effect.all([
    ensureTable(profilesTable(names.profiles)),
    ensureTable(PowertoolsTables.idempotencyTable(names.idempotency))
  ]).pipe(Effect.provide(db)))
  const handler = Powertools.make({ client, profilesTable: names.profiles, idempotencyTable: names.idempotency, logLevel: "SILENT" })
  const run = async (records: ReadonlyArray<DynamoDBRecord>) => {
    const response = await handler(Events.batch(records), PowertoolsTables.lambdaContext())
    if (response.batchItemFailures.length > 0) throw new Error(`the Powertools handler failed ${response.batchItemFailures.length} records`)
  }
  const custId = `hot-${perWindow}`
  const count = Math.min(perWindow, sample)
  const batches = purchases(custId, count)
  units.write = 0
  units.read = 0
  units.calls = 0
  let busy = 0
  for (const batch of batches) {
    const started = performance.now()
    await run(batch)
    busy += performance.now() - started
  }
  const measured = { write: units.write / count, read: units.read / count, callsPerBatch: units.calls / batches.length }
  const total = await profileTotal(client, names.profiles, custId)
  if (total !== valueOf(batches)) throw new Error(`Powertools ${custId}: profile total ${total}, purchases ${valueOf(batches)}`)
  client.destroy()
  return { ...measured, msPerBatch: busy / batches.length, pages: 0, purchases: count }
}

const grouped = (n: number) => n.toLocaleString("en")
const counted = (n: number, one: string, many: string) => `${grouped(n)} ${n === 1 ? one : many}`

export const bench: Bench = async ({ endpoint, size, log }) => {
  const rows: Array<Row> = []
  const curve: Array<{ perWindow: number; dyna: Measured; powertools: Measured }> = []
  for (const perWindow of POINTS[size]) {
    const dyna = await measureDyna(endpoint, perWindow)
    const powertools = await measurePowertools(endpoint, perWindow, POWERTOOLS_SAMPLE[size])
    curve.push({ perWindow, dyna, powertools })
    log(
      `${grouped(perWindow)} purchases: WCU/purchase Dyna Elite ${dyna.write.toFixed(4)} (${dyna.pages} pages, ` +
        `${dyna.msPerBatch.toFixed(1)} ms/batch), Powertools ${powertools.write.toFixed(3)} (${powertools.msPerBatch.toFixed(0)} ms/batch)`
    )
    const sampled = powertools.purchases < perWindow ? ` (measured on the window's first ${grouped(powertools.purchases)}: it writes per record)` : ""
    rows.push(atMost({
      name: `6. hot customer: WCU per purchase, ${grouped(perWindow)} in the window`,
      unit: "WCU/purchase",
      dyna: dyna.write,
      baselineName: "Powertools batch + idempotency",
      baseline: powertools.write,
      note: `one customer, ${counted(perWindow / BATCH, "batch", "batches")} of ${BATCH} over 24 h (window ${AppliedLog.RETENTION_SECONDS / 3600} h); ` +
        `Dyna Elite: ${dyna.callsPerBatch.toFixed(1)} calls and ${dyna.msPerBatch.toFixed(1)} ms per batch, ${counted(dyna.pages, "page item", "page items")}, ` +
        `RCU/purchase ${dyna.read.toFixed(4)}; Powertools${sampled}: ${powertools.callsPerBatch.toFixed(0)} calls and ` +
        `${powertools.msPerBatch.toFixed(0)} ms per batch, RCU/purchase ${powertools.read.toFixed(3)}`
    }, 1))
  }
  const first = curve[0]!
  const last = curve[curve.length - 1]!
  rows.push(atMost({
    name: `6. hot customer: flat cost, ${grouped(last.perWindow)} vs ${grouped(first.perWindow)} in the window`,
    unit: "WCU/purchase",
    dyna: last.dyna.write,
    baselineName: `Dyna Elite at ${grouped(first.perWindow)}`,
    baseline: first.dyna.write,
    note: `Dyna Elite's curve: ${curve.map((c) => `${grouped(c.perWindow)} ${c.dyna.write.toFixed(4)}`).join(", ")} WCU/purchase; ` +
      `Powertools: ${curve.map((c) => `${grouped(c.perWindow)} ${c.powertools.write.toFixed(3)}`).join(", ")}`
  }, 2))
  return rows
}
