/**
 * A hot customer: tens of thousands of purchases inside the applied log's 25 hours. Every purchase is
 * counted once through redeliveries and replays of old batches (which find their ids in the pages the
 * log moved to), none is quarantined, and each write costs about the same whatever the customer's rate.
 *
 * The handler's clock is moved on between batches, as if the purchases came over a day.
 */
import * as AppliedPages from "@dyna/core/AppliedPages"
import * as Events from "@dyna/core/Events"
import type { DynamoDBRecord } from "aws-lambda"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import { afterEach, assert, beforeEach, describe, it } from "vitest"
import * as Handler from "@dyna/aws/Handler"
import * as EliteEvents from "../src/ops/EliteEvents.js"
import * as DynamoLocal from "../../aws/test/support/DynamoLocal.js"
import * as HandlerIam from "../../aws/test/support/HandlerIam.js"

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

let names: DynamoLocal.TableNames
const disposers: Array<() => Promise<void>> = []
beforeEach(async () => {
  names = await DynamoLocal.freshTables()
})
afterEach(async () => {
  await Promise.all(disposers.splice(0).map((dispose) => dispose()))
})

const handlerFor = () => {
  const h = meteredHandler(names)
  disposers.push(h.dispose)
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
const deliver = async (h: ReturnType<typeof handlerFor>, records: ReadonlyArray<DynamoDBRecord>) => {
  assert.deepStrictEqual(await h.handler(Events.batch(records)), { batchItemFailures: [] })
  assert.deepInclude(h.summaries().at(-1), { quarantined: 0, failed: 0 })
}

const pageItems = async () => (await DynamoLocal.scanTable(names.events)).filter((item) => String(item.ProfileVersion).startsWith("-"))

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
      await deliver(h, batch)
      // Lambda delivers a batch again after a timeout, and the records after a failure.
      if (i % 7 === 3) await deliver(h, batch)
      if (i % 11 === 5) await deliver(h, batch.slice(40))
      // A mapping re-created at TRIM_HORIZON brings back batches from hours before, long moved to pages.
      if (i % 25 === 24) await deliver(h, all[Math.floor(i / 3)] ?? [])
    }
    // And a replay of the whole day's stream, out of order, mixed with a few new purchases.
    const late = purchases("hot", [tnNumOf(PURCHASES), tnNumOf(PURCHASES + 1), tnNumOf(PURCHASES + 2)])
    for (const [i, batch] of shuffled(all, 7).slice(0, 20).entries()) await deliver(h, i === 10 ? [...batch, ...late] : batch)
    const profile = await DynamoLocal.profileRow(names, "hot")
    assert.deepInclude(profile, { TotalTnValue: valueOf(records) + valueOf(late), CustStatus: "Elite" })
    assert.deepStrictEqual(await DynamoLocal.scanTable(names.rejected), [])
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
      await deliver(h, batch)
      if (i % 4 === 3) await deliver(h, all[i - 3] ?? [])
    }
    for (const batch of shuffled(all, 5)) await deliver(h, batch)
    assert.deepInclude(await DynamoLocal.profileRow(names, "shuffled"), { TotalTnValue: valueOf(records) })
    assert.strictEqual(h.summaries().reduce((n, s) => n + Number(s.applied), 0), records.length)
    assert.deepStrictEqual(await DynamoLocal.scanTable(names.rejected), [])
  }, 300_000)

  it("costs about as many write units per purchase at 40,000 purchases a day as at 100", async () => {
    const perPurchase = new Map<number, { write: number; read: number }>()
    for (const perDay of [100, 1_000, 10_000, 40_000]) {
      const h = handlerFor()
      const all = batches(purchases(`rate-${perDay}`, Array.from({ length: perDay }, (_, i) => tnNumOf(i))))
      for (const batch of all) {
        h.advance(DAY_SECONDS / all.length)
        await deliver(h, batch)
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
      await deliver(h, batch)
    }
    const pagesWritten = (await pageItems()).length
    assert.isAbove(pagesWritten, 1)
    assert.strictEqual(h.units.pageReads, 0)
    // New purchases past every paged id: the profile alone tells them apart.
    const later = purchases("pages", Array.from({ length: 500 }, (_, i) => tnNumOf(2_000 + i)))
    for (const batch of batches(later)) await deliver(h, batch)
    assert.strictEqual(h.units.pageReads, 0)
    // A batch from long before: its ids are in pages, read back once, and nothing is written.
    const pagesBefore = (await pageItems()).length
    const writesBefore = h.units.write
    await deliver(h, all[2] ?? [])
    assert.deepInclude(h.summaries().at(-1), { applied: 0, duplicates: BATCH })
    assert.strictEqual(h.units.pageReads, 1)
    assert.strictEqual(h.units.write, writesBefore)
    assert.strictEqual((await pageItems()).length, pagesBefore)
    assert.deepInclude(await DynamoLocal.profileRow(names, "pages"), { TotalTnValue: valueOf(records) + valueOf(later) })
  }, 120_000)

  it("leaves the pages out of the EliteQualified events", async () => {
    const h = handlerFor()
    for (const batch of batches(purchases("listed", Array.from({ length: 300 }, (_, i) => tnNumOf(i))))) await deliver(h, batch)
    const items = await DynamoLocal.scanTable(names.events)
    assert.isAbove(items.filter((item) => AppliedPages.isPageItem({ ProfileVersion: { N: String(item.ProfileVersion) } })).length, 0)
    const listing = await DynamoLocal.run(names, EliteEvents.list({ consistent: true }))
    assert.deepStrictEqual(listing.events.map((e) => e.custId), ["listed"])
    assert.deepStrictEqual(listing.malformed, [])
  })
})
