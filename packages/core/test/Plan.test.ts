import * as fc from "fast-check"
import { assert, describe, it } from "vitest"
import * as Plan from "../src/Plan.js"
import type { Change } from "../src/StreamRecord.js"
import type { CustomerId, Transaction } from "../src/Transaction.js"

const tx = (custId: string, tnNum: string | undefined, tnValue: number, seq?: number): Transaction => ({
  custId: custId as CustomerId,
  tnNum,
  tnValue,
  sequenceNumber: seq === undefined ? undefined : String(seq)
})
const insert = (t: Transaction): Change => ({ _tag: "Insert", transaction: t })

const arbChanges = fc.array(
  fc.oneof(
    { weight: 9, arbitrary: fc.record({ c: fc.constantFrom("a", "b", "c", "d"), n: fc.option(fc.nat(20), { nil: undefined }), v: fc.nat(500) }).map(({ c, n, v }) => insert(tx(c, n === undefined ? undefined : String(n), v))) },
    { weight: 1, arbitrary: fc.constantFrom<Change>({ _tag: "Skipped", eventName: "MODIFY", sequenceNumber: "1" }, { _tag: "Skipped", eventName: "REMOVE", sequenceNumber: undefined }) }
  ),
  { maxLength: 100 }
)

describe("Plan.make", () => {
  it("groups a batch per customer, in order of first appearance, dropping in-batch repeats", () => {
    const changes = [
      insert(tx("a", "1", 10)),
      insert(tx("b", "2", 20)),
      { _tag: "Skipped", eventName: "MODIFY", sequenceNumber: "9" } as const,
      insert(tx("a", "3", 30)),
      insert(tx("a", "1", 10)),
      insert(tx("b", undefined, 5)),
      insert(tx("b", undefined, 5))
    ]
    const plan = Plan.make(changes)
    assert.deepStrictEqual(plan.customers.map((c) => c.custId), ["a", "b"])
    assert.deepStrictEqual(plan.customers[0]?.transactions.map((t) => t.tnNum), ["1", "3"])
    assert.deepStrictEqual(plan.customers[0]?.repeats.map((t) => t.tnNum), ["1"])
    // Without TnNum or SequenceNumber nothing tells a repeat apart: both are kept.
    assert.strictEqual(plan.customers[1]?.transactions.length, 3)
    assert.strictEqual(plan.skipped.length, 1)
  })

  it("treats the same SequenceNumber as a repeat when TnNum is absent", () => {
    const plan = Plan.make([insert(tx("a", undefined, 7, 100)), insert(tx("a", undefined, 7, 100))])
    assert.strictEqual(plan.customers[0]?.transactions.length, 1)
    assert.strictEqual(plan.customers[0]?.repeats.length, 1)
  })

  it("loses no record: every INSERT is planned once, as a transaction or a repeat, and skips are kept", () => {
    fc.assert(fc.property(arbChanges, (changes) => {
      const plan = Plan.make(changes)
      const planned = plan.customers.flatMap((c) => [...c.transactions, ...c.repeats])
      const inserts = changes.flatMap((c) => (c._tag === "Insert" ? [c.transaction] : []))
      assert.strictEqual(planned.length, inserts.length)
      assert.sameMembers(planned, inserts)
      assert.strictEqual(plan.skipped.length, changes.length - inserts.length)
    }))
  })

  it("keeps each customer's transactions in stream order, each TnNum once", () => {
    fc.assert(fc.property(arbChanges, (changes) => {
      const inserts = changes.flatMap((c) => (c._tag === "Insert" ? [c.transaction] : []))
      for (const customer of Plan.make(changes).customers) {
        const order = customer.transactions.map((t) => inserts.indexOf(t))
        assert.deepStrictEqual(order, [...order].sort((x, y) => x - y))
        const ids = customer.transactions.flatMap((t) => (t.tnNum === undefined ? [] : [t.tnNum]))
        assert.strictEqual(new Set(ids).size, ids.length)
        for (const t of customer.transactions) assert.strictEqual(t.custId, customer.custId)
      }
    }))
  })
})
