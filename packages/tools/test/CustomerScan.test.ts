/**
 * CustomerScan.split: a segment's pages cut into runs of one customer, a run complete only once a row
 * of another customer follows it, carried over from page to page while it is open.
 */
import { assert, describe, it } from "vitest"
import * as CustomerScan from "../src/ops/CustomerScan.js"

const row = (custId: string | undefined, tnNum: number) => ({
  ...(custId === undefined ? {} : { CustID: { S: custId } }),
  TnNum: { N: String(tnNum) }
})

/** A run as custId and its TnNums, to compare. */
const shape = (run: CustomerScan.Run | undefined) =>
  run === undefined ? undefined : { custId: run.custId, tnNums: run.items.map((item) => item["TnNum"]?.N) }

describe("CustomerScan.split", () => {
  it("completes a customer's run when another customer follows, and leaves the last one open", () => {
    const cut = CustomerScan.split(undefined, [row("a", 1), row("a", 2), row("b", 3), row("c", 4), row("c", 5)])
    assert.deepStrictEqual(cut.complete.map(shape), [{ custId: "a", tnNums: ["1", "2"] }, { custId: "b", tnNums: ["3"] }])
    assert.deepStrictEqual(shape(cut.open), { custId: "c", tnNums: ["4", "5"] })
  })

  it("carries an open run over pages, empty ones too, until another customer follows", () => {
    const first = CustomerScan.split(undefined, [row("a", 1), row("b", 2)])
    const empty = CustomerScan.split(first.open, [])
    const second = CustomerScan.split(empty.open, [row("b", 3), row("b", 4)])
    const third = CustomerScan.split(second.open, [row("b", 5), row("c", 6)])
    assert.deepStrictEqual([empty.complete, second.complete].map((c) => c.length), [0, 0])
    assert.deepStrictEqual(third.complete.map(shape), [{ custId: "b", tnNums: ["2", "3", "4", "5"] }])
    assert.deepStrictEqual(shape(third.open), { custId: "c", tnNums: ["6"] })
  })

  it("makes each row without a CustID a run of its own", () => {
    const cut = CustomerScan.split(undefined, [row(undefined, 1), row(undefined, 2), row("a", 3)])
    assert.deepStrictEqual(cut.complete.map(shape), [{ custId: undefined, tnNums: ["1"] }, { custId: undefined, tnNums: ["2"] }])
    assert.deepStrictEqual(shape(cut.open), { custId: "a", tnNums: ["3"] })
  })
})
