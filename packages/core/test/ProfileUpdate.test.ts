import * as fc from "fast-check"
import { assert, describe, it } from "vitest"
import * as AppliedLog from "../src/AppliedLog.js"
import * as Plan from "../src/Plan.js"
import type { Profile } from "../src/Profile.js"
import * as ProfileUpdate from "../src/ProfileUpdate.js"
import type { CustomerId, Transaction } from "../src/Transaction.js"

const custId = "c-1" as CustomerId
const tx = (tnNum: string | undefined, tnValue: number): Transaction => ({ custId, tnNum, tnValue, sequenceNumber: undefined })
const planOf = (txs: ReadonlyArray<Transaction>) => {
  const plan = Plan.make(txs.map((transaction) => ({ _tag: "Insert", transaction })))[`customers`][0]
  if (plan === undefined) throw new Error("empty plan")
  return plan
}
const NOW = 1_800_000_000

describe("ProfileUpdate.make", () => {
  it("creates a profile for a new customer and sets the status from the total", () => {
    const update = ProfileUpdate.make(undefined, planOf([tx("1", 600), tx("2", 400)]), NOW)
    assert.strictEqual(update.next.totalTnValue, 1000)
    assert.strictEqual(update.next.custStatus, "Elite")
    assert.strictEqual(update.next.version, 1)
    assert.deepStrictEqual([...update.next.applied.keys()], ["1", "2"])
  })

  it("stops at 999 as Normal and turns Elite at 1000", () => {
    const first = ProfileUpdate.make(undefined, planOf([tx("1", 999)]), NOW)
    assert.strictEqual(first.next.custStatus, "Normal")
    const second = ProfileUpdate.make(first.next, planOf([tx("2", 1)]), NOW)
    assert.strictEqual(second.next.custStatus, "Elite")
    assert.strictEqual(second.next.totalTnValue, 1000)
  })

  it("counts a transaction already in the applied log as a duplicate and changes nothing", () => {
    const first = ProfileUpdate.make(undefined, planOf([tx("1", 300)]), NOW)
    const again = ProfileUpdate.make(first.next, planOf([tx("1", 300)]), NOW + 60)
    assert.strictEqual(again.applied.length, 0)
    assert.strictEqual(again.duplicates.length, 1)
    assert.strictEqual(again.next, first.next)
  })

  it("adds to a profile the Jam made (no version, no log) and recomputes a stale status", () => {
    const jam: Profile = { custId, totalTnValue: 950, custStatus: "Normal", applied: AppliedLog.empty, pages: [], version: undefined, eliteSince: undefined }
    const update = ProfileUpdate.make(jam, planOf([tx(undefined, 50)]), NOW)
    assert.strictEqual(update.next.totalTnValue, 1000)
    assert.strictEqual(update.next.custStatus, "Elite")
    assert.strictEqual(update.unguarded.length, 1)
    assert.strictEqual(update.next.version, 1)
  })

  it("sets aside a transaction that would take the total past 2^53 - 1", () => {
    const rich: Profile = { custId, totalTnValue: Number.MAX_SAFE_INTEGER - 10, custStatus: "Elite", applied: AppliedLog.empty, pages: [], version: 3, eliteSince: undefined }
    const update = ProfileUpdate.make(rich, planOf([tx("1", 11), tx("2", 10)]), NOW)
    assert.deepStrictEqual(update.overflowing.map((t) => t.tnNum), ["1"])
    assert.strictEqual(update.next.totalTnValue, Number.MAX_SAFE_INTEGER)
  })

  it("forgets applied keys older than the retention, keeps newer ones", () => {
    const old: Profile = {
      custId,
      totalTnValue: 10,
      custStatus: "Normal",
      applied: AppliedLog.fromEntries([["old", NOW - AppliedLog.RETENTION_SECONDS - 1], ["recent", NOW - 60]]), pages: [],
      version: 1,
      eliteSince: undefined
    }
    const update = ProfileUpdate.make(old, planOf([tx("new", 1)]), NOW)
    assert.deepStrictEqual([...update.next.applied.keys()].sort(), ["new", "recent"])
  })

  it("counts any sequence of deliveries of the same transactions exactly once", () => {
    const arbTxs = fc.uniqueArray(fc.record({ n: fc.nat(50), v: fc.nat(400) }), { selector: (t) => t.n, minLength: 1, maxLength: 30 })
    fc.assert(fc.property(arbTxs, fc.array(fc.nat(), { minLength: 1, maxLength: 8 }), (txs, cuts) => {
      const all = txs.map(({ n, v }) => tx(String(n), v))
      // Deliver overlapping slices, then everything again.
      let profile: Profile | undefined
      for (const cut of [...cuts, 0]) {
        const start = cut % all.length
        profile = ProfileUpdate.make(profile, planOf(all.slice(start).concat(all.slice(0, start))), NOW).next
      }
      const expected = all.reduce((s, t) => s + t.tnValue, 0)
      assert.strictEqual(profile?.totalTnValue, expected)
      assert.strictEqual(profile?.custStatus, expected >= 1000 ? "Elite" : "Normal")
    }))
  })
})

describe("ProfileUpdate promotions", () => {
  it("names the transaction that crossed the line and the running total right after it", () => {
    const start = ProfileUpdate.make(undefined, planOf([tx("1", 900)]), NOW).next
    const update = ProfileUpdate.make(start, planOf([tx("2", 50), tx("3", 60), tx("4", 500)]), NOW)
    assert.deepStrictEqual(update.promotion, {
      custId,
      totalTnValue: 1010,
      tnNum: "3",
      sequenceNumber: undefined,
      qualifiedAt: new Date(NOW * 1000).toISOString(),
      profileVersion: 2
    })
    assert.strictEqual(update.next.eliteSince, new Date(NOW * 1000).toISOString())
    assert.strictEqual(update.next.totalTnValue, 1510)
  })

  it("promotes once: later purchases, redeliveries and a hand-lowered total keep the first EliteSince", () => {
    const promoted = ProfileUpdate.make(undefined, planOf([tx("1", 1000)]), NOW).next
    const later = ProfileUpdate.make(promoted, planOf([tx("2", 5), tx("1", 1000)]), NOW + 60)
    assert.strictEqual(later.promotion, undefined)
    assert.strictEqual(later.next.eliteSince, promoted.eliteSince)
    const lowered: Profile = { ...later.next, totalTnValue: 10 }
    const crossedAgain = ProfileUpdate.make(lowered, planOf([tx("3", 2000)]), NOW + 120)
    assert.strictEqual(crossedAgain.promotion, undefined)
    assert.strictEqual(crossedAgain.next.eliteSince, promoted.eliteSince)
  })

  it("does not promote a profile the Jam already made Elite, and never a Normal one", () => {
    const jam: Profile = { custId, totalTnValue: 1500, custStatus: "Elite", applied: AppliedLog.empty, pages: [], version: undefined, eliteSince: undefined }
    assert.strictEqual(ProfileUpdate.make(jam, planOf([tx("1", 5)]), NOW).promotion, undefined)
    assert.strictEqual(ProfileUpdate.make(undefined, planOf([tx("1", 999)]), NOW).promotion, undefined)
  })
})

describe("ProfileUpdate.recount", () => {
  it("sets the total to the rows' sum, logs every row, and splits known rows from new ones", () => {
    const current = ProfileUpdate.make(undefined, planOf([tx("2", 100)]), NOW).next
    const update = ProfileUpdate.recount(custId, current, [tx("3", 300), tx("1", 50), tx("2", 100)], NOW + 1)
    assert.isTrue(ProfileUpdate.changes(update))
    assert.strictEqual(update.next.totalTnValue, 450)
    assert.strictEqual(update.next.version, 2)
    assert.deepStrictEqual(update.applied.map((t) => t.tnNum), ["1", "3"])
    assert.deepStrictEqual(update.duplicates.map((t) => t.tnNum), ["2"])
    assert.deepStrictEqual([...update.next.applied.keys()].sort(), ["1", "2", "3"])
  })

  it("changes nothing when the total, the status and the log all agree with the rows", () => {
    const logged = AppliedLog.fromEntries([["1", NOW - 60], ["2", NOW - 60]])
    const current: Profile = { custId, totalTnValue: 150, custStatus: "Normal", applied: logged, pages: [], version: 4, eliteSince: undefined }
    const update = ProfileUpdate.recount(custId, current, [tx("1", 50), tx("2", 100)], NOW)
    assert.isFalse(ProfileUpdate.changes(update))
    assert.strictEqual(update.next, current)
    assert.strictEqual(update.duplicates.length, 2)
  })

  it("logs the rows of a total that equals their sum by coincidence, so the stream cannot count one again", () => {
    // A Jam total of 100 with no rows behind it, and a $100 row still on its way down the stream.
    const jam: Profile = { custId, totalTnValue: 100, custStatus: "Normal", applied: AppliedLog.empty, pages: [], version: undefined, eliteSince: undefined }
    const update = ProfileUpdate.recount(custId, jam, [tx("7", 100)], NOW)
    assert.isTrue(ProfileUpdate.changes(update))
    assert.strictEqual(update.next.totalTnValue, 100)
    assert.deepStrictEqual(update.applied, [])
    assert.deepStrictEqual([...update.next.applied.keys()], ["7"])
    const delivered = ProfileUpdate.make(update.next, planOf([tx("7", 100)]), NOW + 1)
    assert.strictEqual(delivered.duplicates.length, 1)
    assert.isFalse(ProfileUpdate.changes(delivered))
  })

  it("is idempotent: recounting its own result changes nothing", () => {
    fc.assert(fc.property(fc.uniqueArray(fc.record({ n: fc.nat(99), v: fc.nat(700) }), { selector: (t) => t.n }), fc.nat(3000), (rows, stored) => {
      const txs = rows.map(({ n, v }) => tx(String(n), v))
      const current: Profile = { custId, totalTnValue: stored, custStatus: "Normal", applied: AppliedLog.empty, pages: [], version: 1, eliteSince: undefined }
      const first = ProfileUpdate.recount(custId, current, txs, NOW)
      const sum = txs.reduce((s, t) => s + t.tnValue, 0)
      assert.strictEqual(first.next.totalTnValue, sum)
      assert.strictEqual(first.next.custStatus, sum >= 1000 ? "Elite" : "Normal")
      assert.isFalse(ProfileUpdate.changes(ProfileUpdate.recount(custId, first.next, txs, NOW + 5)))
    }))
  })

  it("promotes by replaying the rows in TnNum order, and demotes (clearing EliteSince) when the rows say so", () => {
    const update = ProfileUpdate.recount(custId, undefined, [tx("10", 500), tx("2", 600), tx("7", 100)], NOW)
    assert.strictEqual(update.promotion?.tnNum, "10")
    assert.strictEqual(update.promotion?.totalTnValue, 1200)
    assert.strictEqual(update.next.eliteSince, update.promotion?.qualifiedAt)
    const demoted = ProfileUpdate.recount(custId, update.next, [tx("2", 600)], NOW + 9)
    assert.strictEqual(demoted.next.custStatus, "Normal")
    assert.strictEqual(demoted.next.eliteSince, undefined)
    assert.strictEqual(demoted.promotion, undefined)
  })
})

describe("ProfileUpdate with pages", () => {
  it("counts an id found in the profile's pages as a duplicate", () => {
    const first = ProfileUpdate.make(undefined, planOf([tx("1", 300)]), NOW)
    const again = ProfileUpdate.make(first.next, planOf([tx("2", 300), tx("3", 1)]), NOW, AppliedLog.RETENTION_SECONDS, { spilled: new Set(["2"]) })
    assert.deepStrictEqual(again.applied.map((t) => t.tnNum), ["3"])
    assert.deepStrictEqual(again.duplicates.map((t) => t.tnNum), ["2"])
  })

  it("moves a long log to pages written with the update, and keeps the profile's log empty", () => {
    const many = Array.from({ length: 400 }, (_, i) => tx(String(1_000 + i * 13), 1))
    const update = ProfileUpdate.make(undefined, planOf(many), NOW)
    assert.strictEqual(update.next.applied.size, 0)
    assert.deepStrictEqual(update.pages.flatMap((p) => [...p.ids]).sort(), many.map((t) => t.tnNum ?? "").sort())
    assert.strictEqual(update.next.pages.length, 1)
  })

  it("steps the version past an event key found taken, to the clock", () => {
    const first = ProfileUpdate.make(undefined, planOf([tx("1", 1200)]), NOW)
    assert.strictEqual(first.promotion?.profileVersion, 1)
    const retried = ProfileUpdate.make(undefined, planOf([tx("1", 1200)]), NOW, AppliedLog.RETENTION_SECONDS, { avoid: { version: 1 } })
    assert.strictEqual(retried.next.version, NOW * 1000)
    assert.strictEqual(retried.promotion?.profileVersion, NOW * 1000)
    assert.strictEqual(ProfileUpdate.nextVersion(NOW * 1000, NOW + 1, NOW * 1000 + 1), (NOW + 1) * 1000)
  })
})
