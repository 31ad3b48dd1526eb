/**
 * ProfileStore on DynamoDB Local, through the real handler: a promotion and its EliteQualified event,
 * once whatever is delivered again; and a hot customer, tens of thousands of purchases inside the
 * applied log's 25 hours, every one counted once through
 * redeliveries and replays of old batches (which find their ids in the pages the log moved to), none
 * quarantined, each write costing about the same whatever the customer's rate. The hot customer's
 * handler runs on a clock the test moves on between batches, as if the purchases came over a day.
 */
import { DeleteItemCommand, GetItemCommand, ProvisionedThroughputExceededException } from "@aws-sdk/client-dynamodb"
import * as Events from "@dyna/core/Events"
import type { DynamoDBRecord } from "aws-lambda"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import { assert, describe, it } from "vitest"
import * as Handler from "../src/Handler.js"
import * as DynamoLocal from "./support/DynamoLocal.js"
import * as HandlerIam from "./support/HandlerIam.js"

const fresh = DynamoLocal.perTest()
const { handlerWith } = fresh

const { deliver } = DynamoLocal

describe("EliteQualified events", () => {
  it("records the crossing transaction, the total then, and EliteSince, once, whatever is delivered again", async () => {
    const h = handlerWith()
    const records = DynamoLocal.inserts("crosser", [[1, 600], [2, 300], [3, 150], [4, 70]])
    await deliver(h, records.slice(0, 2))
    assert.deepStrictEqual(await DynamoLocal.eliteEvents(fresh.names), [])
    await deliver(h, records)
    await deliver(h, records.slice(1))
    const events = await DynamoLocal.eliteEvents(fresh.names)
    assert.strictEqual(events.length, 1)
    const profile = await DynamoLocal.profileRow(fresh.names, "crosser")
    assert.deepInclude(profile, { TotalTnValue: 1120, CustStatus: "Elite" })
    assert.deepInclude(events[0], {
      CustID: "crosser",
      EventType: "EliteQualified",
      TotalTnValue: 1050,
      TnNum: 3,
      SequenceNumber: records[2]?.dynamodb?.SequenceNumber,
      QualifiedAt: profile?.EliteSince,
      ProfileVersion: 2
    })
    assert.isFalse(Number.isNaN(Date.parse(String(profile?.EliteSince))))
  })

  it("two handlers racing over the same promoting records write one event", async () => {
    const a = handlerWith()
    const b = handlerWith()
    const records = DynamoLocal.inserts("racing-elite", Array.from({ length: 30 }, (_, i) => [i + 1, 50] as const))
    const slices = [records.slice(0, 20), records.slice(10), records.slice(5, 25), records]
    await Promise.all(slices.flatMap((slice) => [deliver(a, slice), deliver(b, slice)]))
    assert.deepInclude(await DynamoLocal.profileRow(fresh.names, "racing-elite"), { TotalTnValue: 1500, CustStatus: "Elite" })
    const events = await DynamoLocal.eliteEvents(fresh.names)
    assert.deepStrictEqual(events.map((e) => [e.CustID, e.TotalTnValue]), [["racing-elite", 1000]])
  })

  it("a throttled promotion writes neither the profile nor the event until it succeeds, then both once", async () => {
    let throttles = 0
    const h = handlerWith({
      before: (command) => {
        if (command === "TransactWriteItemsCommand" && throttles++ < 8) {
          throw new ProvisionedThroughputExceededException({ message: "throttled", $metadata: {} })
        }
      }
    })
    const records = DynamoLocal.inserts("throttled-elite", [[1, 999], [2, 1]])
    await deliver(h, records.slice(0, 1))
    const response = await h.handler(Events.batch(records.slice(1)))
    // Six attempts on the transient schedule, all throttled: the record is reported for redelivery.
    assert.strictEqual(response.batchItemFailures.length, 1)
    assert.deepInclude(await DynamoLocal.profileRow(fresh.names, "throttled-elite"), { TotalTnValue: 999, CustStatus: "Normal" })
    assert.deepStrictEqual(await DynamoLocal.eliteEvents(fresh.names), [])
    await deliver(h, records)
    assert.deepInclude(await DynamoLocal.profileRow(fresh.names, "throttled-elite"), { TotalTnValue: 1000, CustStatus: "Elite" })
    assert.strictEqual((await DynamoLocal.eliteEvents(fresh.names)).length, 1)
  })

  it("a crash after the promotion landed emits nothing more when the batch comes again", async () => {
    let crashed = false
    const crashing = handlerWith({
      after: (command) => {
        if (command === "TransactWriteItemsCommand" && !crashed) {
          crashed = true
          throw new Error("process killed after the write")
        }
      }
    })
    const records = DynamoLocal.inserts("crash-elite", [[1, 2000]])
    const first = await crashing.handler(Events.batch(records))
    assert.strictEqual(first.batchItemFailures.length, 1)
    await deliver(handlerWith(), records)
    assert.deepInclude(await DynamoLocal.profileRow(fresh.names, "crash-elite"), { TotalTnValue: 2000 })
    assert.strictEqual((await DynamoLocal.eliteEvents(fresh.names)).length, 1)
  })

  it("promotes a customer again after their promoted profile was deleted: a second event, the first kept", async () => {
    const h = handlerWith()
    await deliver(h, DynamoLocal.inserts("reborn", [[1, 1200]]))
    const [first] = await DynamoLocal.eliteEvents(fresh.names)
    assert.deepInclude(first, { CustID: "reborn", ProfileVersion: 1 })
    // An operator (or a Jam reset) deletes the profile: its versions start again at 1.
    await DynamoLocal.client().send(new DeleteItemCommand({ TableName: fresh.names.profiles, Key: { CustID: { S: "reborn" } } }))
    await deliver(h, DynamoLocal.inserts("reborn", [[2, 1500]]))
    const profile = await DynamoLocal.profileRow(fresh.names, "reborn")
    assert.deepInclude(profile, { TotalTnValue: 1500, CustStatus: "Elite" })
    const events = await DynamoLocal.eliteEvents(fresh.names)
    assert.strictEqual(events.length, 2)
    assert.deepStrictEqual(events[0], first)
    assert.deepInclude(events[1], { CustID: "reborn", TotalTnValue: 1500, TnNum: 2, ProfileVersion: profile?.ProfileVersion })
    assert.isAbove(Number(profile?.ProfileVersion), 1)
    // Nothing was given up on or counted twice on the way: the collision is no lost race.
    assert.deepInclude(h.summaries().at(-1), { applied: 1, failed: 0 })
  })

  it("promotes a customer again after their profile was restored from before a promotion", async () => {
    const h = handlerWith()
    await deliver(h, DynamoLocal.inserts("restored", [[1, 400], [2, 100]]))
    const backup = await DynamoLocal.client().send(new GetItemCommand({ TableName: fresh.names.profiles, Key: { CustID: { S: "restored" } }, ConsistentRead: true }))
    await deliver(h, DynamoLocal.inserts("restored", [[3, 700]]))
    assert.strictEqual((await DynamoLocal.eliteEvents(fresh.names)).length, 1)
    // Restored as it was before the promotion: the next write takes the promoting version again.
    if (backup.Item === undefined) throw new Error("no profile to back up")
    await DynamoLocal.putItem(fresh.names.profiles, backup.Item)
    await deliver(h, DynamoLocal.inserts("restored", [[4, 600]]))
    assert.deepInclude(await DynamoLocal.profileRow(fresh.names, "restored"), { TotalTnValue: 1100, CustStatus: "Elite" })
    const events = await DynamoLocal.eliteEvents(fresh.names)
    assert.deepStrictEqual(events.map((e) => [e.TnNum, e.TotalTnValue]), [[3, 1200], [4, 1100]])
  })
})

/** A hot customer's purchases in a day. */
const PURCHASES = 40_000
const BATCH = 100
const DAY_SECONDS = 24 * 60 * 60

interface Units {
  write: number
  read: number
  /** Reads of page items (CustEliteEvents), by call. */
  pageReads: number
}

const Consumed = Schema.Struct({ CapacityUnits: Schema.optional(Schema.Number) })
const Output = Schema.Struct({ ConsumedCapacity: Schema.optional(Schema.Union([Consumed, Schema.Array(Consumed)])) })
const decodeOutput = Schema.decodeUnknownSync(Output)

/** A clock running `shift` seconds ahead of the real one: the test moves it on between batches. */
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
 * The real handler on a client that asks every call for the capacity it consumed and adds it up, and
 * on a clock the test moves on.
 */
const meteredHandler = (names: DynamoLocal.TableNames) => {
  const units: Units = { write: 0, read: 0, pageReads: 0 }
  // Checked against the function's IAM policy after the file, like every handler the tests run.
  const iam = HandlerIam.recording(names)
  const sdk = DynamoLocal.client({
    before: (command, input) => {
      iam.record(command, input)
      input["ReturnConsumedCapacity"] = "TOTAL"
      if (/^(Get|BatchGet)/.test(command) && JSON.stringify(input).includes(names.events)) units.pageReads++
    },
    answer: (command, output) => {
      const consumed = decodeOutput(output).ConsumedCapacity
      const entries = consumed === undefined ? [] : Array.isArray(consumed) ? consumed : [consumed]
      const capacity = entries.reduce((n: number, c) => n + (c.CapacityUnits ?? 0), 0)
      // DynamoDB Local reports only CapacityUnits: the command tells reads from writes.
      units[/^(Get|BatchGet|Query|Scan)/.test(command) ? "read" : "write"] += capacity
      return output
    }
  })
  const logs: Array<DynamoLocal.LogLine> = []
  const time = shiftedClock()
  const made = Handler.make(DynamoLocal.servicesLayer(names, sdk, logs).pipe(Layer.provideMerge(Layer.succeed(Clock.Clock, time.clock))))
  const summaries = () => logs.filter((l) => l.message === "batch processed").map((l) => l.annotations)
  return { ...made, units, summaries, advance: time.advance, dispose: async () => {
    await made.dispose()
    sdk.destroy()
  } }
}


const handlerFor = () => {
  const h = meteredHandler(fresh.names)
  fresh.disposeAfter(h.dispose)
  return h
}

/**
 * The `i`th TnNum of a customer: increasing, with uneven gaps (a shop numbers every customer's
 * purchases from one sequence), so that ids do not collapse into runs and the log fills up.
 */
const tnNumOf = (i: number) => 1_000_000 + i * 13 + ((i * 7) % 5)

/** One customer's purchases, `tnNum` as given, value 1–9 each. */
const purchases = (custId: string, tnNums: ReadonlyArray<number>): Array<DynamoDBRecord> =>
  tnNums.map((tnNum) => Events.insert({ custId, tnNum, tnValue: 1 + (tnNum % 9), sequenceNumber: DynamoLocal.nextSequenceNumber() }))

const valueOf = (records: ReadonlyArray<DynamoDBRecord>) =>
  records.reduce((sum, r) => sum + Number(r.dynamodb?.NewImage?.TnValue?.N ?? 0), 0)

const batches = (records: ReadonlyArray<DynamoDBRecord>) =>
  Array.from({ length: Math.ceil(records.length / BATCH) }, (_, i) => records.slice(i * BATCH, (i + 1) * BATCH))

/** Delivers a batch and asserts that nothing in it failed or was set aside. */
const deliverClean = async (h: ReturnType<typeof handlerFor>, records: ReadonlyArray<DynamoDBRecord>) => {
  assert.deepStrictEqual(await h.handler(Events.batch(records)), { batchItemFailures: [] })
  assert.deepInclude(h.summaries().at(-1), { quarantined: 0, failed: 0 })
}

const pageItems = async () => (await DynamoLocal.scanTable(fresh.names.events)).filter((item) => String(item.ProfileVersion).startsWith("-"))

/** A seeded shuffle, so a failure can be replayed. */
const shuffled = <A>(items: ReadonlyArray<A>, seed: number): Array<A> => {
  const out = [...items]
  let state = seed
  for (let i = out.length - 1; i > 0; i--) {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31
    const j = state % (i + 1)
    const a = out[i]
    const b = out[j]
    if (a !== undefined && b !== undefined) [out[i], out[j]] = [b, a]
  }
  return out
}

describe("a hot customer", () => {
  it(`counts ${PURCHASES.toLocaleString("en")} purchases of a day in batches of ${BATCH} exactly once through redeliveries and replays, quarantining none`, async () => {
    const h = handlerFor()
    const records = purchases("hot", Array.from({ length: PURCHASES }, (_, i) => tnNumOf(i)))
    const all = batches(records)
    for (const [i, batch] of all.entries()) {
      // 40,000 a day: a batch every 216 seconds.
      h.advance(DAY_SECONDS / all.length)
      await deliverClean(h, batch)
      // Lambda delivers a batch again after a timeout, and the records after a failure.
      if (i % 7 === 3) await deliverClean(h, batch)
      if (i % 11 === 5) await deliverClean(h, batch.slice(40))
      // A mapping re-created at TRIM_HORIZON brings back batches from hours before, long moved to pages.
      if (i % 25 === 24) await deliverClean(h, all[Math.floor(i / 3)] ?? [])
    }
    // And a replay of the whole day's stream, out of order, mixed with a few new purchases.
    const late = purchases("hot", [tnNumOf(PURCHASES), tnNumOf(PURCHASES + 1), tnNumOf(PURCHASES + 2)])
    for (const [i, batch] of shuffled(all, 7).slice(0, 20).entries()) await deliverClean(h, i === 10 ? [...batch, ...late] : batch)
    const profile = await DynamoLocal.profileRow(fresh.names, "hot")
    assert.deepInclude(profile, { TotalTnValue: valueOf(records) + valueOf(late), CustStatus: "Elite" })
    assert.deepStrictEqual(await DynamoLocal.scanTable(fresh.names.rejected), [])
    const applied = h.summaries().reduce((n, s) => n + Number(s.applied), 0)
    assert.strictEqual(applied, PURCHASES + late.length)
    // The log moved to pages: the profile itself stays near a kilobyte.
    assert.isAbove((await pageItems()).length, 0)
  }, 600_000)

  it("counts purchases whose TnNums come in no order, replayed out of order, exactly once", async () => {
    const h = handlerFor()
    const tnNums = shuffled(Array.from({ length: 3_000 }, (_, i) => 1_000_000 + i * 37), 11)
    const records = purchases("shuffled", tnNums)
    const all = batches(records)
    for (const [i, batch] of all.entries()) {
      await deliverClean(h, batch)
      if (i % 4 === 3) await deliverClean(h, all[i - 3] ?? [])
    }
    for (const batch of shuffled(all, 5)) await deliverClean(h, batch)
    assert.deepInclude(await DynamoLocal.profileRow(fresh.names, "shuffled"), { TotalTnValue: valueOf(records) })
    assert.strictEqual(h.summaries().reduce((n, s) => n + Number(s.applied), 0), records.length)
    assert.deepStrictEqual(await DynamoLocal.scanTable(fresh.names.rejected), [])
  }, 300_000)

  it("costs about as many write units per purchase at 40,000 purchases a day as at 100", async () => {
    const perPurchase = new Map<number, { write: number; read: number }>()
    for (const perDay of [100, 1_000, 10_000, 40_000]) {
      const h = handlerFor()
      const all = batches(purchases(`rate-${perDay}`, Array.from({ length: perDay }, (_, i) => tnNumOf(i))))
      for (const batch of all) {
        h.advance(DAY_SECONDS / all.length)
        await deliverClean(h, batch)
      }
      perPurchase.set(perDay, { write: h.units.write / perDay, read: h.units.read / perDay })
    }
    const table = [...perPurchase].map(([n, u]) => `${n.toLocaleString("en")}/day: ${u.write.toFixed(4)} WCU, ${u.read.toFixed(4)} RCU`)
    console.log(`one customer, batches of ${BATCH}, per purchase — ${table.join("; ")}`)
    const at100 = perPurchase.get(100)?.write ?? NaN
    for (const [, u] of perPurchase) assert.isAtMost(u.write, 2 * at100, table.join("; "))
    // Half of a Powertools-style handler's 2–3 write units per purchase, with room to spare.
    assert.isAtMost(perPurchase.get(40_000)?.write ?? NaN, 0.1)
  }, 600_000)

  it("writes a page once, and reads pages back only for an id that could be in one", async () => {
    const h = handlerFor()
    const records = purchases("pages", Array.from({ length: 1_000 }, (_, i) => tnNumOf(i)))
    const all = batches(records)
    for (const batch of all) {
      h.advance(60)
      await deliverClean(h, batch)
    }
    const pagesWritten = (await pageItems()).length
    assert.isAbove(pagesWritten, 1)
    assert.strictEqual(h.units.pageReads, 0)
    // New purchases past every paged id: the profile alone tells them apart.
    const later = purchases("pages", Array.from({ length: 500 }, (_, i) => tnNumOf(2_000 + i)))
    for (const batch of batches(later)) await deliverClean(h, batch)
    assert.strictEqual(h.units.pageReads, 0)
    // A batch from long before: its ids are in pages, read back once, and nothing is written.
    const pagesBefore = (await pageItems()).length
    const writesBefore = h.units.write
    await deliverClean(h, all[2] ?? [])
    assert.deepInclude(h.summaries().at(-1), { applied: 0, duplicates: BATCH })
    assert.strictEqual(h.units.pageReads, 1)
    assert.strictEqual(h.units.write, writesBefore)
    assert.strictEqual((await pageItems()).length, pagesBefore)
    assert.deepInclude(await DynamoLocal.profileRow(fresh.names, "pages"), { TotalTnValue: valueOf(records) + valueOf(later) })
  }, 120_000)
})
