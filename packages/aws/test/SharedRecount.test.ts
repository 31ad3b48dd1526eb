/**
 * SharedRecount on DynamoDB Local, backfill's shared promotions: several customers' promotions (each a
 * profile update and its EliteQualified event) in one TransactWriteItems, decided on profiles read ahead
 * (`RecountBatch.plan`) and written by `SharedRecount.recountPlanned`. Each customer is counted once with
 * one event; a member whose condition fails is recounted alone and counted once, the others written;
 * a customer whose applied log needs pages has them put first and shares the transaction all the same.
 */
import * as AppliedPages from "@dyna/core/AppliedPages"
import * as RecountBatch from "@dyna/core/RecountBatch"
import type { CustomerId, Transaction } from "@dyna/core/Transaction"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import { afterEach, assert, beforeEach, describe, it } from "vitest"
import type { Applied } from "../src/ProfileWrite.js"
import { ProfileStore } from "../src/ProfileStore.js"
import { type Recounted, SharedRecount } from "../src/SharedRecount.js"
import * as TransactionStore from "../src/TransactionStore.js"
import * as DynamoLocal from "./support/DynamoLocal.js"

let names: DynamoLocal.TableNames
/** The commands the recounts sent, in order. */
let sent: Array<string>
const disposers: Array<() => Promise<void>> = []
beforeEach(async () => {
  names = await DynamoLocal.freshTables()
  sent = []
})
afterEach(async () => {
  await Promise.all(disposers.splice(0).map((dispose) => dispose()))
})

/** The stream's handler over the same tables. */
const streamHandler = () => {
  const h = DynamoLocal.handler(names)
  disposers.push(h.dispose)
  return h
}

/** Rows written to CustTransactions, and read back as the Scan hands them over. */
const scanned = async (custId: string, rows: ReadonlyArray<readonly [number, number]>): Promise<RecountBatch.Scanned> => {
  const items = rows.map(([n, v]) => ({ CustID: { S: custId }, TnNum: { N: String(n) }, TnValue: { N: String(v) } }))
  for (const item of items) await DynamoLocal.putItem(names.transactions, item)
  return { custId: custId as CustomerId, rows: items.map((item): Transaction => Result.getOrThrow(TransactionStore.fromItem(item))) }
}

/** Reads the customers' profiles ahead and plans their writes, as Backfill does for a batch. */
const planned = (customers: ReadonlyArray<RecountBatch.Scanned>) =>
  DynamoLocal.run(names, Effect.gen(function*() {
    const readAhead = yield* (yield* ProfileStore).readAhead(customers.map((c) => c.custId))
    const now = Math.floor((yield* Clock.currentTimeMillis) / 1000)
    return { readAhead, plan: RecountBatch.plan(customers, readAhead, now) }
  }))

/** Writes what was planned, every command counted in `sent`. */
const write = (plan: ReadonlyArray<RecountBatch.Planned>) =>
  DynamoLocal.run(
    names,
    Effect.gen(function*() {
      const recounts = yield* SharedRecount
      const done = yield* Effect.forEach(plan, (p) => recounts.recountPlanned(p), { concurrency: "unbounded" })
      return new Map(done.flat().map((r): [string, Recounted["result"]] => [r.custId, r.result]))
    }),
    DynamoLocal.client({ before: (command) => void sent.push(command) })
  )

const applied = (results: ReadonlyMap<string, Recounted["result"]>, custId: string): Applied => {
  const result = results.get(custId)
  assert.isDefined(result, `no outcome for ${custId}`)
  if (result === undefined || Result.isFailure(result)) throw new Error(`${custId} failed: ${JSON.stringify(result)}`)
  return result.success
}

const eventsOf = async (custId: string) => (await DynamoLocal.eliteEvents(names)).filter((e) => e.CustID === custId)

const PROMOTING = [[1, 600], [2, 500]] as const

describe("shared promotions on DynamoDB Local", () => {
  it("writes several customers' promotions in one TransactWriteItems, each counted once with one event", async () => {
    const promoted = ["p1", "p2", "p3", "p4", "p5"]
    const customers = [...await Promise.all(promoted.map((c) => scanned(c, PROMOTING))), await scanned("n1", [[1, 100]])]
    const { plan } = await planned(customers)
    assert.deepStrictEqual(plan.map((p) => (p._tag === "Shared" ? p.members.map((m) => m.custId) : p.custId)), [promoted, "n1"])

    const results = await write(plan)
    assert.deepStrictEqual(sent.filter((c) => c === "TransactWriteItemsCommand").length, 1, sent.join())
    assert.deepStrictEqual(sent.filter((c) => c === "UpdateItemCommand").length, 1, "the customer not promoted is one UpdateItem")
    let units = 0
    for (const custId of promoted) {
      const update = applied(results, custId)
      assert.deepStrictEqual([update.applied.length, update.duplicates.length], [2, 0])
      assert.deepInclude(update.writes, { profileWrites: 1, racesLost: 0 })
      assert.isDefined(update.promotion)
      units += update.writes.writeUnits
      assert.deepInclude(await DynamoLocal.profileRow(names, custId), { TotalTnValue: 1100, CustStatus: "Elite", ProfileVersion: 1 })
      assert.deepStrictEqual((await eventsOf(custId)).map((e) => [e.ProfileVersion, e.TotalTnValue, e.TnNum]), [[1, 1100, 2]])
    }
    assert.isAbove(units, 0, "the transaction's write units are shared among its members")
    assert.deepInclude(await DynamoLocal.profileRow(names, "n1"), { TotalTnValue: 100, CustStatus: "Normal" })

    // The stream delivering the same rows later counts none of them again.
    await DynamoLocal.deliver(streamHandler(), promoted.flatMap((c) => DynamoLocal.inserts(c, PROMOTING)))
    for (const custId of promoted) assert.deepInclude(await DynamoLocal.profileRow(names, custId), { TotalTnValue: 1100 })
    assert.strictEqual((await DynamoLocal.eliteEvents(names)).length, promoted.length)
  })

  it("recounts alone, once, a member whose profile changed after the read or whose event key was taken; writes the others", async () => {
    const members = ["s1", "s2", "s3", "s4"]
    const customers = await Promise.all(members.map((c) => scanned(c, PROMOTING)))
    const { plan } = await planned(customers)
    assert.deepStrictEqual(plan.map((p) => p._tag), ["Shared"])

    // After the read: the stream counts s2's second row (a new profile version), and an EliteQualified
    // event of an earlier life of s3's profile holds the key its promotion would take.
    await DynamoLocal.deliver(streamHandler(), DynamoLocal.inserts("s2", [[2, 500]]))
    await DynamoLocal.putItem(names.events, {
      CustID: { S: "s3" },
      ProfileVersion: { N: "1" },
      EventType: { S: "EliteQualified" },
      TotalTnValue: { N: "1000" },
      QualifiedAt: { S: "2020-01-01T00:00:00.000Z" }
    })

    const results = await write(plan)
    // The cancelled transaction, s1 and s4 together again, s2 and s3 each alone.
    assert.strictEqual(sent.filter((c) => c === "TransactWriteItemsCommand").length, 4, sent.join())

    for (const custId of ["s1", "s4"]) {
      assert.deepInclude(applied(results, custId).writes, { profileWrites: 1, racesLost: 0 })
      assert.deepStrictEqual((await eventsOf(custId)).map((e) => e.ProfileVersion), [1])
    }
    const s2 = applied(results, "s2")
    assert.deepInclude(s2.writes, { profileWrites: 1, racesLost: 1 })
    assert.deepStrictEqual([s2.applied.map((tx) => tx.tnNum), s2.duplicates.map((tx) => tx.tnNum)], [["1"], ["2"]])
    assert.deepStrictEqual((await eventsOf("s2")).map((e) => [e.ProfileVersion, e.TotalTnValue]), [[2, 1100]])
    const s3 = applied(results, "s3")
    assert.deepInclude(s3.writes, { profileWrites: 1, racesLost: 0 })
    const s3Events = (await eventsOf("s3")).map((e) => e.ProfileVersion)
    assert.strictEqual(s3Events.length, 2, "the earlier life's event, and one for this promotion past its key")
    assert.isAbove(Number(s3Events[1]), 1)
    for (const custId of members) {
      assert.deepInclude(await DynamoLocal.profileRow(names, custId), { TotalTnValue: 1100, CustStatus: "Elite" })
    }

    // Every row counted once: the stream delivering them all again changes nothing.
    await DynamoLocal.deliver(streamHandler(), members.flatMap((c) => DynamoLocal.inserts(c, PROMOTING)))
    for (const custId of members) assert.deepInclude(await DynamoLocal.profileRow(names, custId), { TotalTnValue: 1100 })
    assert.strictEqual((await DynamoLocal.eliteEvents(names)).length, members.length + 1)
  })

  it("shares the transaction with a promotion whose applied log needs pages: its pages are put first", async () => {
    const long = await scanned("long", Array.from({ length: 150 }, (_, i) => [i + 1, 10] as const))
    const short = await Promise.all(["a", "b"].map((c) => scanned(c, PROMOTING)))
    const { plan } = await planned([long, ...short])
    assert.deepStrictEqual(plan.map((p) => (p._tag === "Shared" ? p.members.map((m): string => m.custId) : p.custId)), [["long", "a", "b"]])

    const results = await write(plan)
    const update = applied(results, "long")
    assert.isAbove(update.pages.length, 0)
    assert.deepInclude(update.writes, { profileWrites: 1, racesLost: 0 })
    assert.strictEqual(update.applied.length, 150)
    assert.deepStrictEqual(sent.filter((c) => c === "TransactWriteItemsCommand" || c === "PutItemCommand").slice(-1), ["TransactWriteItemsCommand"])
    assert.strictEqual(sent.filter((c) => c === "TransactWriteItemsCommand").length, 1, "one for all three")
    assert.isAtLeast(sent.filter((c) => c === "PutItemCommand").length, 1, "its page, before the transaction")
    assert.deepInclude(await DynamoLocal.profileRow(names, "long"), { TotalTnValue: 1500, CustStatus: "Elite" })
    assert.strictEqual((await eventsOf("long")).length, 1)
    assert.strictEqual((await DynamoLocal.eliteEvents(names)).length, 3)

    // Every row counted once: the stream delivering them all again changes nothing.
    await DynamoLocal.deliver(streamHandler(), DynamoLocal.inserts("long", Array.from({ length: 150 }, (_, i) => [i + 1, 10] as const)))
    assert.deepInclude(await DynamoLocal.profileRow(names, "long"), { TotalTnValue: 1500 })
  })

  it("recounts alone, past it, a member whose page key is found taken; writes the others together", async () => {
    const long = await scanned("long", Array.from({ length: 150 }, (_, i) => [i + 1, 10] as const))
    const short = await Promise.all(["a", "b"].map((c) => scanned(c, PROMOTING)))
    const { plan } = await planned([long, ...short])
    const [group] = plan
    if (group?._tag !== "Shared") throw new Error(`expected one shared write, got ${JSON.stringify(plan.map((p) => p._tag))}`)
    // A page of an earlier life of the profile holds the key long's first page would take.
    const page = group.members.find((m) => m.custId === "long")?.update.pages[0]
    assert.isDefined(page)
    if (page === undefined) return
    await DynamoLocal.putItem(names.events, AppliedPages.toPageItem(page))

    const results = await write(plan)
    assert.strictEqual(sent.filter((c) => c === "TransactWriteItemsCommand").length, 2, "a and b together; long alone")
    for (const custId of ["a", "b"]) assert.deepInclude(applied(results, custId).writes, { profileWrites: 1, racesLost: 0 })
    const again = applied(results, "long")
    assert.deepInclude(again.writes, { profileWrites: 1 })
    assert.strictEqual(again.applied.length, 150)
    assert.notInclude(again.pages.map((p) => p.key), page.key, "its pages stepped over the taken key")
    assert.deepInclude(await DynamoLocal.profileRow(names, "long"), { TotalTnValue: 1500, CustStatus: "Elite" })
    assert.strictEqual((await eventsOf("long")).length, 1)
  })
})
