/**
 * Row 1: write units per transaction, measured with ReturnConsumedCapacity: Dyna Elite's exactly-once
 * handler against the Jam's naive read-modify-write and the Powertools handler (the real batch,
 * idempotency, parser and logger utilities: an idempotency record per transaction around a plain
 * UpdateItem ADD), batches of 100 over 10 and over 100 customers. Read units are in the notes. The
 * Powertools handler is then handed its first batch again: the profiles must not count it twice.
 */
import { type AttributeValue, DynamoDBClient, ScanCommand } from "@aws-sdk/client-dynamodb"
import { services } from "@dyna/aws/AppLayer"
import { DynamoDb } from "@dyna/aws/DynamoDb"
import * as Handler from "@dyna/aws/Handler"
import { ensureTable, eventsTable, profilesTable, rejectedTable } from "@dyna/tools/provision/TableSteps"
import { Tables } from "@dyna/aws/Tables"
import * as Events from "@dyna/core/Events"
import type { DynamoDBRecord } from "aws-lambda"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as References from "effect/References"
import * as Naive from "../baselines/naive.js"
import * as Powertools from "../baselines/powertools.js"
import { atMost, type Bench } from "../Row.js"
import * as Metered from "../support/Metered.js"

const BATCH = 100

interface Units {
  write: number
  read: number
  /** Write units of TransactWriteItems alone: Dyna Elite's promotions, which cost twice. */
  transact: number
}

/** A real client that asks for, and adds up, the capacity every call consumed. */
const meteredClient = (endpoint: string, units: Units) =>
  Metered.client(endpoint, ({ command, capacity, isRead }) => {
    units[isRead ? "read" : "write"] += capacity
    if (command === "TransactWriteItemsCommand") units.transact += capacity
  })

/** `batches` batches of `BATCH` INSERTs spread evenly over `customers`, each with its own TnNum. */
const workload = (batches: number, customers: number): Array<Array<DynamoDBRecord>> => {
  let n = 0
  return Array.from({ length: batches }, () =>
    Array.from({ length: BATCH }, () => {
      n++
      return Events.insert({ custId: `cust-${n % customers}`, tnNum: n, tnValue: 1 + (n % 97), sequenceNumber: Events.sequenceNumber(n) })
    }))
}

type Kind = "dyna" | "naive" | "powertools"

/** Runs every batch through one handler on fresh tables of its own; the units its calls consumed. */
const measure = async (endpoint: string, kind: Kind, customers: number, batches: ReadonlyArray<ReadonlyArray<DynamoDBRecord>>) => {
  const units: Units = { write: 0, read: 0, transact: 0 }
  const client = meteredClient(endpoint, units)
  const prefix = `cost-${kind}-${customers}`
  const names = { transactions: `${prefix}-tx`, profiles: `${prefix}-profile`, rejected: `${prefix}-rejected`, events: `${prefix}-events` }
  const idempotency = `${prefix}-idempotency`
  const db = Layer.succeed(DynamoDb, DynamoDb.fromClient(client, endpoint))
  await Effect.runPromise(Effect.all([
    ensureTable(profilesTable(names.profiles)),
    ...(kind === "dyna" ? [ensureTable(rejectedTable(names.rejected)), ensureTable(eventsTable(names.events))] : []),
    ...(kind === "powertools" ? [ensureTable(Powertools.idempotencyTable(idempotency))] : [])
  ]).pipe(Effect.provide(db)))
  units.write = 0
  units.read = 0
  units.transact = 0

  let dispose = async () => {}
  let run: (records: ReadonlyArray<DynamoDBRecord>) => Promise<void>
  if (kind === "naive") run = Naive.handler(client, names.profiles)
  else if (kind === "powertools") run = Powertools.handler(client, { profiles: names.profiles, idempotency })
  else {
    const made = Handler.make(services.pipe(
      Layer.provideMerge(Layer.mergeAll(db, Layer.succeed(Tables, Tables.of(names)))),
      Layer.provideMerge(Layer.succeed(References.MinimumLogLevel, "None"))
    ))
    dispose = made.dispose
    run = async (records) => {
      const response = await made.handler(Events.batch(records))
      if (response.batchItemFailures.length > 0) throw new Error(`Dyna Elite failed ${response.batchItemFailures.length} records`)
    }
  }
  for (const batch of batches) await run(batch)
  // Correct under redelivery: the first batch again (as a retried invocation would bring it) leaves
  // every profile's total as it was; checked for the Powertools handler, off the meter.
  let redelivery: string | undefined
  if (kind === "powertools") {
    const metered = { ...units }
    const before = await profileTotal(client, names.profiles)
    await run(batches[0] ?? [])
    const after = await profileTotal(client, names.profiles)
    const expected = batches.flat().reduce((n, r) => n + Number(r.dynamodb?.NewImage?.TnValue?.N ?? 0), 0)
    if (before !== expected || after !== expected) {
      throw new Error(`the Powertools handler's profiles add up to ${before}, then ${after} after a redelivery; expected ${expected}`)
    }
    redelivery = `its first batch delivered again counted once (the profiles still add up to ${expected})`
    Object.assign(units, metered)
  }
  await dispose()
  client.destroy()
  return { ...units, redelivery }
}

/** The sum of every profile's TotalTnValue, read with a consistent Scan. */
const profileTotal = async (client: DynamoDBClient, table: string) => {
  let sum = 0
  let startKey: Record<string, AttributeValue> | undefined
  do {
    const page = await client.send(new ScanCommand({ TableName: table, ExclusiveStartKey: startKey, ConsistentRead: true }))
    for (const item of page.Items ?? []) sum += Number(item.TotalTnValue?.N ?? 0)
    startKey = page.LastEvaluatedKey
  } while (startKey !== undefined)
  return sum
}

export const bench: Bench = async ({ endpoint, size, log }) => {
  const batches = size === "smoke" ? 2 : 10
  const rows = []
  for (const customers of [10, 100]) {
    const work = workload(batches, customers)
    const txs = BATCH * batches
    const perTx = async (kind: Kind) => {
      const u = await measure(endpoint, kind, customers, work)
      return { write: u.write / txs, read: u.read / txs, transact: u.transact / txs, redelivery: u.redelivery }
    }
    const dyna = await perTx("dyna")
    const naive = await perTx("naive")
    const powertools = await perTx("powertools")
    log(`${customers} customers: WCU/tx Dyna Elite ${dyna.write.toFixed(3)}, naive ${naive.write.toFixed(3)}, Powertools ${powertools.write.toFixed(3)}`)
    const name = `1. write units per tx (${customers} customers)`
    const unit = "WCU/tx"
    const sizeNote = `${batches} batches of ${BATCH}`
    const rcu = (label: string, u: { read: number }) => `${label} ${u.read.toFixed(3)}`
    rows.push(
      atMost({
        name,
        unit,
        dyna: dyna.write,
        baselineName: "naive read-modify-write",
        baseline: naive.write,
        note: `${sizeNote}; RCU/tx: ${rcu("Dyna Elite", dyna)} (strongly consistent), ${rcu("naive", naive)}` +
          (customers === 100
            ? "; a customer per record leaves nothing to group, so Dyna Elite pays the naive handler's one write per record"
            : `; one conditional write per customer per batch, whatever the customer's number of records ` +
              `(1 WCU per KB of profile, which grows with its log of applied ids), ` +
              `${dyna.transact.toFixed(3)} of it the promotions' transactions (2× units)`)
      }, 1),
      atMost({
        name,
        unit,
        dyna: dyna.write,
        baselineName: "Powertools batch + idempotency",
        baseline: powertools.write,
        note: `${sizeNote}; the real @aws-lambda-powertools/batch, /idempotency (DynamoDB persistence keyed on ` +
          `CustID + TnNum), /parser, /logger: idempotency record put (INPROGRESS), UpdateItem ADD, record ` +
          `completed, per record; RCU/tx: ${rcu("Dyna Elite", dyna)}, ${rcu("Powertools", powertools)}; ${powertools.redelivery}`
      }, 0.5)
    )
  }
  return rows
}
