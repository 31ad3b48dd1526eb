/**
 * `pnpm bench:cost`: write and read units per transaction of Dyna Elite's exactly-once handler against
 * the Jam's naive read-modify-write handler, measured with ReturnConsumedCapacity on a fresh in-memory
 * DynamoDB Local, batches of 100 records over 10 and over 100 customers. Ratios, not seconds.
 */
import { DynamoDBClient, GetItemCommand, PutItemCommand } from "@aws-sdk/client-dynamodb"
import { services } from "@dyna/aws/AppLayer"
import { DynamoDb } from "@dyna/aws/DynamoDb"
import * as Handler from "@dyna/aws/Handler"
import { scopedInMemory } from "@dyna/aws/local/DynamoDbLocal"
import { ensureTable, eventsTable, profilesTable, rejectedTable } from "@dyna/aws/provision/TableSteps"
import { Tables } from "@dyna/aws/Tables"
import * as Events from "@dyna/core/Events"
import { statusFor } from "@dyna/core/Elite"
import type { DynamoDBRecord } from "aws-lambda"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as References from "effect/References"
import { writeFileSync } from "node:fs"

const BATCH = 100
const BATCHES = Number(process.env.BENCH_BATCHES ?? 10)

interface Units {
  write: number
  read: number
}

/** A real client that asks for and adds up the capacity every call consumed. */
const meteredClient = (endpoint: string, units: Units) => {
  const client = new DynamoDBClient({
    endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "bench", secretAccessKey: "bench" },
    maxAttempts: 1
  })
  client.middlewareStack.add(
    (next, context) => async (args) => {
      ;(args.input as Record<string, unknown>).ReturnConsumedCapacity = "TOTAL"
      const result = await next(args)
      // DynamoDB Local reports only CapacityUnits: the command tells reads from writes.
      const consumed = (result.output as { ConsumedCapacity?: { CapacityUnits?: number } }).ConsumedCapacity
      const isRead = /^(Get|BatchGet|Query|Scan)/.test(context.commandName ?? "")
      units[isRead ? "read" : "write"] += consumed?.CapacityUnits ?? 0
      return result
    },
    { step: "initialize", name: "meter" }
  )
  return client
}

/** `BATCHES` batches of `BATCH` INSERTs spread evenly over `customers`, with unique TnNums. */
const workload = (customers: number): Array<Array<DynamoDBRecord>> => {
  let n = 0
  return Array.from({ length: BATCHES }, () =>
    Array.from({ length: BATCH }, () => {
      n++
      return Events.insert({ custId: `cust-${n % customers}`, tnNum: n, tnValue: 1 + (n % 97), sequenceNumber: Events.sequenceNumber(n) })
    }))
}

/** The Jam's reference logic: per record, read the profile, add, put it back. */
const naiveHandler = (client: DynamoDBClient, table: string) => async (records: ReadonlyArray<DynamoDBRecord>) => {
  for (const r of records) {
    const custId = r.dynamodb?.NewImage?.CustID?.S ?? ""
    const value = Number(r.dynamodb?.NewImage?.TnValue?.N ?? 0)
    const { Item } = await client.send(new GetItemCommand({ TableName: table, Key: { CustID: { S: custId } } }))
    const total = Number(Item?.TotalTnValue?.N ?? 0) + value
    await client.send(new PutItemCommand({
      TableName: table,
      Item: { ...Item, CustID: { S: custId }, TotalTnValue: { N: String(total) }, CustStatus: { S: statusFor(total) } }
    }))
  }
}

const tablesFor = (prefix: string) => ({
  transactions: `${prefix}-tx`,
  profiles: `${prefix}-profile`,
  rejected: `${prefix}-rejected`,
  events: `${prefix}-events`
})

const measure = (endpoint: string, customers: number) =>
  Effect.gen(function*() {
    const batches = workload(customers)
    const results: Record<string, { first: Units; all: Units }> = {}
    for (const kind of ["dyna", "naive"] as const) {
      const units: Units = { write: 0, read: 0 }
      const client = meteredClient(endpoint, units)
      const names = tablesFor(`${kind}-${customers}`)
      const db = Layer.succeed(DynamoDb, DynamoDb.fromClient(client, endpoint))
      yield* Effect.all([
        ensureTable(profilesTable(names.profiles)),
        ensureTable(rejectedTable(names.rejected)),
        ensureTable(eventsTable(names.events))
      ]).pipe(
        Effect.provide(db)
      )
      units.write = 0
      units.read = 0
      const run = kind === "naive"
        ? naiveHandler(client, names.profiles)
        : (() => {
          const made = Handler.make(services.pipe(
            Layer.provideMerge(Layer.mergeAll(db, Layer.succeed(Tables, Tables.of(names)))),
            Layer.provideMerge(Layer.succeed(References.MinimumLogLevel, "None"))
          ))
          return async (records: ReadonlyArray<DynamoDBRecord>) => {
            const response = await made.handler(Events.batch(records))
            if (response.batchItemFailures.length > 0) throw new Error("bench batch failed")
          }
        })()
      let first: Units | undefined
      for (const batch of batches) {
        yield* Effect.promise(() => run(batch))
        first ??= { ...units }
      }
      results[kind] = { first: first ?? units, all: { ...units } }
      client.destroy()
    }
    return results
  })

const perTx = (u: Units, txs: number) => ({ write: u.write / txs, read: u.read / txs })
const fmt = (n: number) => n.toFixed(3)

const program = Effect.gen(function*() {
  const { endpoint } = yield* scopedInMemory
  console.log(`Capacity units per transaction, batches of ${BATCH}, ${BATCHES} batches per scenario (DynamoDB Local, ReturnConsumedCapacity)\n`)
  console.log("customers | handler    | WCU/tx 1st batch | WCU/tx all | RCU/tx all | WCU vs naive")
  console.log("----------|------------|------------------|------------|------------|-------------")
  const rows = []
  for (const customers of [10, 100]) {
    const r = yield* measure(endpoint, customers)
    const txs = BATCH * BATCHES
    const dyna = perTx(r.dyna?.all ?? { write: 0, read: 0 }, txs)
    const naive = perTx(r.naive?.all ?? { write: 0, read: 0 }, txs)
    for (const [name, u, firstU] of [["dyna-elite", dyna, r.dyna?.first], ["naive", naive, r.naive?.first]] as const) {
      const first = perTx(firstU ?? { write: 0, read: 0 }, BATCH)
      const ratio = u.write / naive.write
      console.log(`${String(customers).padStart(9)} | ${name.padEnd(10)} | ${fmt(first.write).padStart(16)} | ${fmt(u.write).padStart(10)} | ${fmt(u.read).padStart(10)} | ${ratio.toFixed(2)}×`)
      rows.push({ customers, handler: name, wcuPerTxFirstBatch: first.write, wcuPerTx: u.write, rcuPerTx: u.read, wcuVsNaive: ratio })
    }
  }
  writeFileSync("bench/results-cost.json", JSON.stringify({ batch: BATCH, batches: BATCHES, rows }, null, 2))
  console.log("\nwritten: bench/results-cost.json")
})

await Effect.runPromise(Effect.scoped(program))
