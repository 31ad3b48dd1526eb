import * as fc from "fast-check"
import { assert, describe, it } from "vitest"
import * as AppliedLog from "../src/AppliedLog.js"
import * as Drift from "../src/Drift.js"
import * as Elite from "../src/Elite.js"
import { Drift as FromIndex } from "../src/index.js"
import type { Profile } from "../src/Profile.js"
import type { CustomerId, Transaction } from "../src/Transaction.js"

const custId = "c-1" as CustomerId
const tx = (tnNum: string | undefined, tnValue: number): Transaction => ({ custId, tnNum, tnValue, sequenceNumber: undefined })
const profile = (totalTnValue: number, custStatus: "Normal" | "Elite", known: ReadonlyArray<string>): Profile => ({
  custId,
  totalTnValue,
  custStatus,
  applied: AppliedLog.fromEntries(known.map((k) => [k, 1_800_000_000])), pages: [],
  version: 1,
  eliteSince: undefined
})

describe("Drift.of", () => {
  it("finds nothing when the total is the sum and the status follows the rule", () => {
    assert.isUndefined(Drift.of("a", { totalTnValue: 1050, custStatus: "Elite" }, 1050))
    assert.isUndefined(Drift.of("a", { totalTnValue: 999, custStatus: "Normal" }, 999))
    assert.isUndefined(Drift.of("a", undefined, undefined))
    // A Jam customer without purchases: a profile at 0 and no rows agree.
    assert.isUndefined(Drift.of("a", { totalTnValue: 0, custStatus: "Normal" }, undefined))
  })

  it("names each kind of difference", () => {
    const kinds = (stored: Drift.Stored | undefined, computed: number | undefined) => Drift.of("a", stored, computed)?.kinds
    assert.deepStrictEqual(kinds({ totalTnValue: 400, custStatus: "Normal" }, 500), ["total"])
    // The status followed the wrong total: wrong for the rows.
    assert.deepStrictEqual(kinds({ totalTnValue: 950, custStatus: "Normal" }, 1050), ["total", "status"])
    // Right total, status edited by hand.
    assert.deepStrictEqual(kinds({ totalTnValue: 1050, custStatus: "Normal" }, 1050), ["status"])
    assert.deepStrictEqual(kinds({ totalTnValue: 300, custStatus: "Elite" }, 300), ["status"])
    // A status right for the rows but not for the stored total: the item contradicts itself.
    assert.deepStrictEqual(kinds({ totalTnValue: 1050, custStatus: "Normal" }, 950), ["total", "status"])
    assert.deepStrictEqual(kinds({ totalTnValue: 1200, custStatus: "Elite" }, 1100), ["total"])
    assert.deepStrictEqual(kinds(undefined, 300), ["missing profile"])
    assert.deepStrictEqual(kinds(undefined, 0), ["missing profile"])
    assert.deepStrictEqual(kinds({ totalTnValue: 500, custStatus: "Normal" }, undefined), ["no rows"])
    assert.deepStrictEqual(kinds({ totalTnValue: 1500, custStatus: "Elite" }, undefined), ["no rows", "status"])
    assert.deepStrictEqual(kinds({ totalTnValue: 0, custStatus: "Elite" }, undefined), ["status"])
  })

  it("keeps the stored and computed sides", () => {
    assert.deepStrictEqual(Drift.of("c", { totalTnValue: 950, custStatus: "Normal" }, 1050), {
      _tag: "Mismatch",
      custId: "c",
      stored: { totalTnValue: 950, custStatus: "Normal" },
      computed: 1050,
      kinds: ["total", "status"]
    })
  })
})

describe("Drift.compare", () => {
  it("lists every customer that differs, in CustID code-unit order, and no other", () => {
    const stored = new Map<string, Drift.Stored>([
      ["b", { totalTnValue: 100, custStatus: "Normal" }],
      ["a", { totalTnValue: 1000, custStatus: "Normal" }],
      ["ok", { totalTnValue: 20, custStatus: "Normal" }],
      ["ghost", { totalTnValue: 70, custStatus: "Normal" }],
      ["Z", { totalTnValue: 1, custStatus: "Normal" }]
    ])
    const computed = new Map([["a", 1000], ["b", 90], ["ok", 20], ["new", 5], ["Z", 2]])
    const out = Drift.compare(stored, computed)
    assert.deepStrictEqual(out.map((d) => [d.custId, d.kinds]), [
      ["Z", ["total"]],
      ["a", ["status"]],
      ["b", ["total"]],
      ["ghost", ["no rows"]],
      ["new", ["missing profile"]]
    ])
  })

  it("finds a customer exactly when their total or status disagrees with their rows", () => {
    const status = fc.constantFrom<"Normal" | "Elite">("Normal", "Elite")
    const entry = fc.record({ stored: fc.option(fc.record({ totalTnValue: fc.nat(2000), custStatus: status }), { nil: undefined }), computed: fc.option(fc.nat(2000), { nil: undefined }) })
    fc.assert(fc.property(fc.dictionary(fc.string({ minLength: 1, maxLength: 4 }), entry), (customers) => {
      const stored = new Map<string, Drift.Stored>()
      const computed = new Map<string, number>()
      for (const [id, e] of Object.entries(customers)) {
        if (e.stored !== undefined) stored.set(id, e.stored)
        if (e.computed !== undefined) computed.set(id, e.computed)
      }
      const found = new Set(Drift.compare(stored, computed).map((d) => d.custId))
      for (const [id, e] of Object.entries(customers)) {
        const agrees = e.stored === undefined
          ? e.computed === undefined
          : e.stored.totalTnValue === (e.computed ?? 0) && e.stored.custStatus === Elite.statusFor(e.stored.totalTnValue)
        assert.strictEqual(found.has(id), !agrees, id)
      }
    }))
  })
})

describe("Drift.computedTotal", () => {
  it("is the sum a recount would write: rows past 2^53 - 1 left out; undefined without rows", () => {
    assert.strictEqual(Drift.computedTotal(custId, [tx("1", 400), tx("2", 650)]), 1050)
    assert.isUndefined(Drift.computedTotal(custId, []))
    assert.strictEqual(Drift.computedTotal(custId, [tx("1", Number.MAX_SAFE_INTEGER), tx("2", 5)]), Number.MAX_SAFE_INTEGER)
  })
})

describe("Drift.check", () => {
  it("sees no difference when the profile holds the sum of the rows", () => {
    assert.deepStrictEqual(Drift.check(custId, profile(1050, "Elite", ["1", "2"]), [tx("1", 400), tx("2", 650)]), {
      difference: undefined,
      pending: []
    })
  })

  it("names the rows the stream may still deliver when the profile agrees with the rows it knows", () => {
    const seen = Drift.check(custId, profile(400, "Normal", ["1"]), [tx("1", 400), tx("2", 650), tx("3", 5)])
    assert.deepInclude(seen.difference, { kinds: ["total", "status"], computed: 1055 })
    assert.deepStrictEqual(seen.pending, ["2", "3"])
    // A customer's first purchase, not yet counted: no profile, every row pending.
    assert.deepStrictEqual(Drift.check(custId, undefined, [tx("1", 5)]).pending, ["1"])
  })

  it("names no pending row when what the profile knows does not explain it", () => {
    // A total edited by hand: the known rows sum to 400, the profile says 500.
    assert.deepStrictEqual(Drift.check(custId, profile(500, "Normal", ["1"]), [tx("1", 400), tx("2", 10)]).pending, [])
    // A status edited by hand.
    assert.deepStrictEqual(Drift.check(custId, profile(400, "Elite", ["1"]), [tx("1", 400), tx("2", 10)]).pending, [])
    // A profile without rows.
    assert.deepStrictEqual(Drift.check(custId, profile(500, "Normal", []), []).pending, [])
  })
})

describe("Drift.isDrift", () => {
  const clean: Drift.Check = { difference: undefined, pending: [] }
  const mismatch = Drift.of("c-1", { totalTnValue: 400, custStatus: "Normal" }, 500)
  const unexplained: Drift.Check = { difference: mismatch, pending: [] }
  const pending = (...tnNums: Array<string>): Drift.Check => ({ difference: mismatch, pending: tnNums })

  it("is lag when the stream closes the difference by the last check", () => {
    assert.isFalse(Drift.isDrift([]))
    assert.isFalse(Drift.isDrift([clean]))
    assert.isFalse(Drift.isDrift([unexplained, clean]))
    assert.isFalse(Drift.isDrift([pending("7"), pending("7"), clean]))
  })

  it("is lag while new rows keep arriving and each is delivered within the settle time", () => {
    assert.isFalse(Drift.isDrift([pending("7"), pending("8")]))
    assert.isFalse(Drift.isDrift([unexplained, pending("7", "8"), pending("9")]))
  })

  it("is drift when the rows the profile knows do not explain it, or a row stays undelivered", () => {
    assert.isTrue(Drift.isDrift([unexplained]))
    assert.isTrue(Drift.isDrift([pending("7"), unexplained]))
    assert.isTrue(Drift.isDrift([pending("7"), pending("7")]))
    assert.isTrue(Drift.isDrift([pending("1", "2"), pending("2", "8")]))
    // One check cannot tell lag from drift.
    assert.isTrue(Drift.isDrift([pending("7")]))
    assert.isTrue(Drift.isDrift([Drift.unreadableCheck("c-1", "row c-1/2: TnValue.N must be a whole number of dollars")]))
  })
})

describe("Drift.format", () => {
  it("prints one line per difference: customer, stored, computed, and the kinds", () => {
    const line = (stored: Drift.Stored | undefined, computed: number | undefined, id = "CUST-1") => {
      const d = Drift.of(id, stored, computed)
      assert.isDefined(d)
      return d === undefined ? "" : Drift.format(d)
    }
    assert.strictEqual(line({ totalTnValue: 950, custStatus: "Normal" }, 1050), "CUST-1  stored 950 Normal  computed 1050 Elite  (total, status)")
    assert.strictEqual(line(undefined, 300), "CUST-1  stored no profile  computed 300 Normal  (missing profile)")
    assert.strictEqual(line({ totalTnValue: 500, custStatus: "Normal" }, undefined), "CUST-1  stored 500 Normal  computed 0 Normal  (no rows)")
    assert.strictEqual(
      Drift.format(Drift.unreadable("CUST-9", "CustTransactions row CUST-9/2 cannot be counted: TnValue.N must be a whole number of dollars")),
      "CUST-9  unreadable: CustTransactions row CUST-9/2 cannot be counted: TnValue.N must be a whole number of dollars"
    )
  })

  it("lines the CustIDs up in one column, in CustID order", () => {
    const lines = FromIndex.formatAll([
      Drift.unreadable("long-customer", "why"),
      { _tag: "Mismatch", custId: "b", stored: { totalTnValue: 1, custStatus: "Normal" }, computed: 2, kinds: ["total"] }
    ])
    assert.deepStrictEqual(lines, ["b              stored 1 Normal  computed 2 Normal  (total)", "long-customer  unreadable: why"])
  })
})
