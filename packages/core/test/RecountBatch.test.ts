import * as Result from "effect/Result"
import { assert, describe, it } from "vitest"
import * as AppliedLog from "../src/AppliedLog.js"
import * as Profile from "../src/Profile.js"
import * as RecountBatch from "../src/RecountBatch.js"
import type { CustomerId, Transaction } from "../src/Transaction.js"

const NOW = 1_800_000_000
const id = (s: string) => s as CustomerId
const rows = (custId: string, values: ReadonlyArray<number>): ReadonlyArray<Transaction> =>
  values.map((tnValue, i) => ({ custId: id(custId), tnNum: String(i + 1), tnValue, sequenceNumber: undefined }))
const noProfile = Result.succeed(undefined)

const tags = (planned: ReadonlyArray<RecountBatch.Planned>) =>
  planned.map((p) => (p._tag === "Shared" ? p.members.map((m) => m.custId) : `alone:${p.custId}`))

describe("RecountBatch.plan", () => {
  it("puts promotions together and everyone else alone, each decided on its read", () => {
    const customers = [
      { custId: id("a"), rows: rows("a", [600, 500]) },
      { custId: id("b"), rows: rows("b", [100]) },
      { custId: id("c"), rows: rows("c", [1000]) }
    ]
    const reads = new Map([["a", noProfile], ["b", noProfile], ["c", noProfile]])
    const planned = RecountBatch.plan(customers, reads, NOW)
    assert.deepStrictEqual(tags(planned), [["a", "c"], "alone:b"])
    const shared = planned[0]
    assert.strictEqual(shared?._tag, "Shared")
    if (shared?._tag !== "Shared") return
    assert.deepStrictEqual(shared.members.map((m) => [m.promotion.totalTnValue, m.update.next.version]), [[1100, 1], [1000, 1]])
    const alone = planned[1]
    assert.deepStrictEqual([alone?._tag, alone?._tag === "Alone" ? alone.custId : undefined], ["Alone", "b"])
    assert.strictEqual(alone?._tag === "Alone" ? alone.update?.next.totalTnValue : undefined, 100)
  })

  it("leaves undecided, alone, a customer without a read, with an unreadable one, without rows, or whose log the rows do not cover", () => {
    const logged: Profile.Profile = { ...Profile.empty(id("d")), applied: AppliedLog.record(AppliedLog.empty, ["99"], NOW, 3600), version: 3 }
    const customers = [
      { custId: id("unread"), rows: rows("unread", [2000]) },
      { custId: id("bad"), rows: rows("bad", [2000]) },
      { custId: id("queried"), rows: undefined },
      { custId: id("d"), rows: rows("d", [2000]) }
    ]
    const reads = new Map<string, RecountBatch.Read>([
      ["bad", Result.fail(new Profile.UnreadableProfile({ custId: "bad", field: "TotalTnValue", reason: "x" }))],
      ["queried", noProfile],
      ["d", Result.succeed(logged)]
    ])
    const planned = RecountBatch.plan(customers, reads, NOW)
    assert.deepStrictEqual(tags(planned), ["alone:unread", "alone:bad", "alone:queried", "alone:d"])
    assert.isTrue(planned.every((p) => p._tag === "Alone" && p.update === undefined))
  })

  it("shares a promotion with applied pages too: they are put before the shared transaction", () => {
    const many = Array.from({ length: 200 }, () => 10)
    const planned = RecountBatch.plan([{ custId: id("long"), rows: rows("long", many) }], new Map([["long", noProfile]]), NOW)
    const [only] = planned
    assert.strictEqual(only?._tag, "Shared")
    if (only?._tag !== "Shared") return
    assert.deepStrictEqual(only.members.map((m) => m.custId), ["long"])
    assert.isAbove(only.members[0]?.update.pages.length ?? 0, 0)
  })

  it("shares at most 50 customers a transaction", () => {
    const customers = Array.from({ length: 120 }, (_, i) => ({ custId: id(`p${i}`), rows: rows(`p${i}`, [1500]) }))
    const reads = new Map(customers.map((c) => [c.custId as string, noProfile]))
    const sizes = RecountBatch.plan(customers, reads, NOW).map((p) => (p._tag === "Shared" ? p.members.length : 0))
    assert.deepStrictEqual(sizes, [50, 50, 20])
  })
})

describe("RecountBatch.groups", () => {
  it("never puts one customer twice in a group", () => {
    const members = ["a", "b", "a", "c", "a"].map((custId, n) => ({ custId, n }))
    const groups = RecountBatch.groups(members, 2)
    assert.deepStrictEqual(groups.map((g) => g.map((m) => `${m.custId}${m.n}`)), [["a0", "b1"], ["a2", "c3"], ["a4"]])
  })
})

describe("RecountBatch.coversLog", () => {
  it("holds without a profile or with every logged key among the rows, not with pages or a key the rows lack", () => {
    const base = { ...Profile.empty(id("x")), version: 1 }
    const log = AppliedLog.record(AppliedLog.empty, ["1", "2"], NOW, 3600)
    assert.isTrue(RecountBatch.coversLog(undefined, []))
    assert.isTrue(RecountBatch.coversLog({ ...base, applied: log }, rows("x", [1, 2, 3])))
    assert.isFalse(RecountBatch.coversLog({ ...base, applied: log }, rows("x", [1])))
  })
})
