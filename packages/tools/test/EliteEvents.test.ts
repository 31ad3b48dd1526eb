/**
 * EliteQualified events on DynamoDB Local, as the real handler writes them: listed oldest first, cut by
 * `since`, a malformed item named and passed over, the applied log's pages left out; and followed live,
 * each new promotion reported once.
 */
import * as AppliedPages from "@dyna/core/AppliedPages"
import * as Events from "@dyna/core/Events"
import * as Promotion from "@dyna/core/Promotion"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Schedule from "effect/Schedule"
import { afterEach, assert, beforeEach, describe, it } from "vitest"
import * as EliteEvents from "../src/ops/EliteEvents.js"
import * as DynamoLocal from "../../aws/test/support/DynamoLocal.js"

let names: DynamoLocal.TableNames
let live: ReturnType<typeof DynamoLocal.handler>

beforeEach(async () => {
  names = await DynamoLocal.freshTables()
  live = DynamoLocal.handler(names)
})
afterEach(() => live.dispose())

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
/** QualifiedAt has whole seconds: promotions a second apart are ordered by time, not by CustID. */
const nextSecond = () => sleep(1005 - (Date.now() % 1000))

/** Counts purchases through the real handler. */
const deliver = async (custId: string, values: ReadonlyArray<readonly [number, number]>) => {
  const response = await live.handler(Events.batch(DynamoLocal.inserts(custId, values)))
  assert.deepStrictEqual(response.batchItemFailures, [])
}

const summary = (p: Promotion.Promotion): ReadonlyArray<unknown> => [p.custId, p.totalTnValue, p.tnNum]

describe("EliteEvents.list", () => {
  it("lists the handler's events oldest first, cut by since, naming a malformed item and keeping on", async () => {
    await deliver("zed", [[1, 700], [2, 400]])
    await nextSecond()
    await deliver("mia", [[1, 999], [2, 1], [3, 5000]])
    await deliver("below", [[1, 999]])
    await nextSecond()
    await deliver("amy", [[7, 1200]])
    // The same batch delivered again promotes nobody twice.
    await deliver("amy", [[7, 1200]])
    await DynamoLocal.putItem(names.events, {
      ...Promotion.toItem({
        custId: Promotion.Item.fields.CustID.fields.S.make("hand-made"),
        totalTnValue: 1000,
        tnNum: "1",
        sequenceNumber: undefined,
        qualifiedAt: "2026-01-01T00:00:00.000Z",
        profileVersion: 1
      }),
      TotalTnValue: { S: "1000" }
    })

    const all = await DynamoLocal.run(names, EliteEvents.list())
    assert.deepStrictEqual(all.events.map(summary), [["zed", 1100, "2"], ["mia", 1000, "2"], ["amy", 1200, "7"]])
    assert.deepStrictEqual(all.malformed.map((m) => m.key), ["hand-made#1"])
    assert.include(all.malformed[0]?.reason, "TotalTnValue")
    assert.strictEqual(all.scanned, 4)
    const stored = await DynamoLocal.eliteEvents(names)
    const mia = stored.find((e) => e.CustID === "mia")
    assert.strictEqual(all.events[1]?.qualifiedAt, mia?.QualifiedAt)
    assert.strictEqual(all.events[1]?.sequenceNumber, mia?.SequenceNumber)

    const since = await DynamoLocal.run(names, EliteEvents.list({ since: new Date(all.events[1]?.qualifiedAt ?? "") }))
    assert.deepStrictEqual(since.events.map((e) => e.custId), ["mia", "amy"])
    const none = await DynamoLocal.run(names, EliteEvents.list({ since: new Date(Date.parse(all.events[2]?.qualifiedAt ?? "") + 1) }))
    assert.deepStrictEqual(none.events, [])
  }, 20_000)

  it("orders events of the same second by CustID", () => {
    const item = (custId: string, qualifiedAt: string) =>
      Promotion.toItem({
        custId: Promotion.Item.fields.CustID.fields.S.make(custId),
        totalTnValue: 1000,
        tnNum: "1",
        sequenceNumber: undefined,
        qualifiedAt,
        profileVersion: 1
      })
    const listing = EliteEvents.read([
      item("b", "2026-11-25T22:01:03.000Z"),
      item("a", "2026-11-25T22:01:03.000Z"),
      item("c", "2026-11-25T22:01:02.000Z"),
      item("d", "not a time")
    ])
    assert.deepStrictEqual(listing.events.map((e) => e.custId), ["c", "a", "b"])
    assert.deepStrictEqual(listing.malformed, [{ key: "d#1", custId: "d", reason: "QualifiedAt.S must be an ISO-8601 timestamp" }])
  })

  it("leaves the pages of a customer's applied log out", async () => {
    // 300 purchases in batches of 100, TnNums with uneven gaps: the log outgrows the profile and moves to pages.
    const tnNums = Array.from({ length: 300 }, (_, i) => 1_000_000 + i * 13 + ((i * 7) % 5))
    for (let i = 0; i < tnNums.length; i += 100) await deliver("listed", tnNums.slice(i, i + 100).map((tnNum) => [tnNum, 1 + (tnNum % 9)] as const))
    const items = await DynamoLocal.scanTable(names.events)
    assert.isAbove(items.filter((item) => AppliedPages.isPageItem({ ProfileVersion: { N: String(item.ProfileVersion) } })).length, 0)
    const listing = await DynamoLocal.run(names, EliteEvents.list({ consistent: true }))
    assert.deepStrictEqual(listing.events.map((e) => e.custId), ["listed"])
    assert.deepStrictEqual(listing.malformed, [])
  })
})

/** Runs `watch` in a fiber; `act` runs once it has read what was there; then it is interrupted. */
const watching = (
  from: EliteEvents.WatchOptions["from"],
  act: (seen: Array<Promotion.Promotion>) => Promise<void>
) => {
  const seen: Array<Promotion.Promotion> = []
  return DynamoLocal.run(
    names,
    Effect.gen(function*() {
      const ready = yield* Deferred.make<void>()
      const fiber = yield* Effect.forkChild(EliteEvents.watch({
        from,
        every: "50 millis",
        onReady: () => Deferred.succeed(ready, undefined).pipe(Effect.asVoid),
        onEvent: (p) => Effect.sync(() => void seen.push(p))
      }))
      yield* Deferred.await(ready)
      yield* Effect.promise(() => act(seen))
      yield* Fiber.interrupt(fiber)
      const exit = yield* Fiber.await(fiber)
      assert.isTrue(Exit.hasInterrupts(exit), "interrupted, not failed")
      return seen
    })
  )
}

/** Waits (up to 5 s) until `count` events were seen, then for ten more polls, so a repeat would show. */
const settle = (seen: ReadonlyArray<unknown>, count: number) =>
  Effect.runPromise(
    Effect.suspend(() => (seen.length >= count ? Effect.void : Effect.fail("not yet"))).pipe(
      Effect.retry(Schedule.spaced("20 millis").pipe(Schedule.upTo({ duration: "5 seconds" }))),
      Effect.andThen(Effect.sleep("500 millis"))
    )
  )

describe("EliteEvents.watch", () => {
  it("reports each new promotion exactly once, and none from before the start", async () => {
    await deliver("earlier", [[1, 1000]])
    const seen = await watching("now", async (seen) => {
      await deliver("w-one", [[1, 500], [2, 600]])
      await deliver("w-two", [[1, 2000]])
      await deliver("w-normal", [[1, 10]])
      // Delivered again: no new event, so nothing new to report.
      await deliver("w-one", [[1, 500], [2, 600]])
      await settle(seen, 2)
    })
    assert.sameDeepMembers(seen.map(summary), [["w-one", 1100, "2"], ["w-two", 2000, "1"]])
    assert.strictEqual(seen.length, 2)
  }, 20_000)

  it("shows the history first with all, or from a time with since, then follows", async () => {
    await deliver("old", [[1, 1000]])
    await nextSecond()
    await deliver("newer", [[1, 1000]])
    const [newer] = (await DynamoLocal.eliteEvents(names)).filter((e) => e.CustID === "newer")
    const fromAll = await watching("all", async (seen) => {
      await nextSecond()
      await deliver("live", [[1, 1000]])
      await settle(seen, 3)
    })
    assert.deepStrictEqual(fromAll.map((e) => e.custId), ["old", "newer", "live"])
    const fromSince = await watching(new Date(String(newer?.QualifiedAt)), async (seen) => {
      await deliver("live-2", [[1, 1000]])
      await settle(seen, 2)
    })
    assert.deepStrictEqual(fromSince.map((e) => e.custId), ["newer", "live", "live-2"])
  }, 20_000)
})
