/**
 * Recount on DynamoDB Local: a customer's total set from their rows (`recount`), or from the rows a scan
 * read (`recountScanned`), and never counted again by the stream; and backfill's shared promotions:
 * several customers' promotions (each a profile update and its EliteQualified event) in one
 * TransactWriteItems, decided on profiles read ahead (`RecountBatch.plan`) and written by
 * `Recount.recountPlanned`. Each customer is counted once with
 * one event; a member whose condition fails is recounted alone and counted once, the others written;
 * a customer whose applied log needs pages has them put first and shares the transaction all the same.
 */
import * as AppliedPages from "@dyna/core/AppliedPages"
import * as Events from "@dyna/core/Events"
import * as RecountBatch from "@dyna/core/RecountBatch"
import type { CustomerId, Transaction } from "@dyna/core/Transaction"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import { afterEach, assert, beforeEach, describe, it } from "vitest"
import type { Applied } from "../src/ProfileWrite.js"
import { ProfileStore } from "../src/ProfileStore.js"
import { Recount, type Recounted } from "../src/Recount.js"
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

/** Rows written to CustTransactions, and read back as the Scan hands them over (as the recount reads rows). */
const scannedRows = async (custId: string, rows: ReadonlyArray<readonly [number, number]>): Promise<ReadonlyArray<Transaction>> => {
  const items = rows.map(([n, v]) => ({ CustID: { S: custId }, TnNum: { N: String(n) }, TnValue: { N: String(v) } }))
  for (const item of items) await DynamoLocal.putItem(names.transactions, item)
  return items.map((item): Transaction => Result.getOrThrow(TransactionStore.fromItem(item)))
}

/** The same, as one customer of the Scan. */
const scanned = async (custId: string, rows: ReadonlyArray<readonly [number, number]>): Promise<RecountBatch.Scanned> => ({
  custId: custId as CustomerId,
  rows: await scannedRows(custId, rows)
})

const row = (custId: string, tnNum: number | string, tnValue: number | string) =>
  DynamoLocal.putItem(names.transactions, { CustID: { S: custId }, TnNum: { N: String(tnNum) }, TnValue: { N: String(tnValue) } })

const recount = (custId: string) =>
  DynamoLocal.run(names, Effect.gen(function*() {
    return yield* (yield* Recount).recount(custId as CustomerId)
  }))

describe("Recount.recount on DynamoDB Local", () => {
  it("sets a Jam profile's total from its rows, keeps its other attributes, promotes once, and then changes nothing", async () => {
    await DynamoLocal.putItem(names.profiles, {
      CustID: { S: "jam-1" },
      TotalTnValue: { N: "100" },
      CustStatus: { S: "Normal" },
      Email: { S: "jam@example.com" }
    })
    for (const [n, v] of [[1, 400], [2, 500], [3, 300]] as const) await row("jam-1", n, v)
    const first = await recount("jam-1")
    assert.strictEqual(first.applied.length, 3)
    assert.strictEqual(first.promotion?.tnNum, "3")
    const profile = await DynamoLocal.profileRow(names, "jam-1")
    assert.deepInclude(profile, { TotalTnValue: 1200, CustStatus: "Elite", Email: "jam@example.com", ProfileVersion: 1 })
    assert.strictEqual(profile?.EliteSince, first.promotion?.qualifiedAt)
    const again = await recount("jam-1")
    assert.strictEqual(again.applied.length, 0)
    assert.strictEqual(again.duplicates.length, 3)
    assert.deepInclude(await DynamoLocal.profileRow(names, "jam-1"), { ProfileVersion: 1 })
    assert.strictEqual((await DynamoLocal.eliteEvents(names)).length, 1)
  })

  it("leaves nothing for the stream to count twice: a row it recounted is a duplicate when the stream delivers it", async () => {
    await row("late", 1, 700)
    await row("late", 2, 400)
    await recount("late")
    const live = DynamoLocal.handler(names)
    try {
      const response = await live.handler(Events.batch(DynamoLocal.inserts("late", [[2, 400], [3, 50]])))
      assert.deepStrictEqual(response, { batchItemFailures: [] })
      assert.deepInclude(live.summaries().at(-1), { applied: 1, duplicates: 1 })
    } finally {
      await live.dispose()
    }
    assert.deepInclude(await DynamoLocal.profileRow(names, "late"), { TotalTnValue: 1150 })
    assert.strictEqual((await DynamoLocal.eliteEvents(names)).length, 1)
  })

  it("fails naming the row and the field when a row cannot be counted, and writes nothing", async () => {
    await row("broken", 1, 10)
    await DynamoLocal.putItem(names.transactions, { CustID: { S: "broken" }, TnNum: { N: "2" }, TnValue: { S: "ten" } })
    const error = await recount("broken").then(() => undefined, (e: unknown) => e)
    assert.instanceOf(error, Error)
    assert.match((error as Error).message, /CustTransactions row broken\/2 cannot be counted: TnValue\.N /)
    assert.isUndefined(await DynamoLocal.profileRow(names, "broken"))
  })

  it("recounts a customer with more rows than a profile item could log, and the stream then counts none of them again", async () => {
    const rows = Array.from({ length: 32_000 }, (_, i) => ({ custId: "many", tnNum: 2_000_000_000 + i * 3, tnValue: 1 + (i % 5) }))
    const sdk = DynamoLocal.client()
    for (let i = 0; i < rows.length; i += 25) await DynamoLocal.putRows(sdk, names.transactions, rows.slice(i, i + 25))
    sdk.destroy()
    const total = rows.reduce((sum, r) => sum + r.tnValue, 0)
    const first = await recount("many")
    assert.strictEqual(first.applied.length, rows.length)
    assert.deepInclude(await DynamoLocal.profileRow(names, "many"), { TotalTnValue: total, CustStatus: "Elite" })
    const live = DynamoLocal.handler(names)
    try {
      const redelivered = DynamoLocal.inserts("many", rows.slice(15_000, 15_100).map((r) => [r.tnNum, r.tnValue] as const))
      assert.deepStrictEqual(await live.handler(Events.batch(redelivered)), { batchItemFailures: [] })
      assert.deepInclude(live.summaries().at(-1), { applied: 0, duplicates: 100 })
    } finally {
      await live.dispose()
    }
    const again = await recount("many")
    assert.deepInclude(again, { applied: [] })
    assert.strictEqual(again.duplicates.length, rows.length)
    assert.deepInclude(await DynamoLocal.profileRow(names, "many"), { TotalTnValue: total })
  }, 300_000)
})

const recountScanned = (custId: string, scanned: ReadonlyArray<Transaction>) =>
  DynamoLocal.run(names, Effect.gen(function*() {
    return yield* (yield* Recount).recountScanned(custId as CustomerId, scanned)
  }))

describe("Recount.recountScanned on DynamoDB Local", () => {
  it("recounts from the scanned rows when they hold every row the profile's log knows", async () => {
    const rows = await scannedRows("covered", [[1, 300], [2, 400]])
    // The stream counted a scanned row before the profile read: in the log, and among the scanned.
    await DynamoLocal.deliver(streamHandler(), DynamoLocal.inserts("covered", [[2, 400]]))
    // A row written after the scan, not yet counted: in neither, so the stream counts it when it comes.
    await row("covered", 3, 500)
    const update = await recountScanned("covered", rows)
    assert.deepStrictEqual([update.applied.length, update.duplicates.length], [1, 1])
    assert.deepInclude(await DynamoLocal.profileRow(names, "covered"), { TotalTnValue: 700 })
    await DynamoLocal.deliver(streamHandler(), DynamoLocal.inserts("covered", [[2, 400], [3, 500]]))
    assert.deepInclude(await DynamoLocal.profileRow(names, "covered"), { TotalTnValue: 1200, CustStatus: "Elite" })
    assert.strictEqual((await DynamoLocal.eliteEvents(names)).length, 1)
  })

  it("Queries the rows instead when the stream counted one the scan never saw, so the total keeps it", async () => {
    const rows = await scannedRows("window", [[1, 300], [2, 400]])
    // Written after the scan read the customer, and counted by the stream before the profile is read.
    await row("window", 3, 500)
    await DynamoLocal.deliver(streamHandler(), DynamoLocal.inserts("window", [[3, 500]]))
    const update = await recountScanned("window", rows)
    assert.deepStrictEqual([update.applied.length, update.duplicates.length], [2, 1])
    assert.deepInclude(await DynamoLocal.profileRow(names, "window"), { TotalTnValue: 1200, CustStatus: "Elite" })
  })
})

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
      const recounts = yield* Recount
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
