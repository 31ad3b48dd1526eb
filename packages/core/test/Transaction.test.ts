import * as Result from "effect/Result"
import { assert, describe, it } from "vitest"
import * as Transaction from "../src/Transaction.js"

const row = (custId: string, tnNum: string, tnValue: string) => ({ CustID: { S: custId }, TnNum: { N: tnNum }, TnValue: { N: tnValue } })

describe("Transaction", () => {
  it("reads a customer's rows in order, TnNums in canonical form", () => {
    const read = Result.getOrThrow(Transaction.fromRows([row("alice", "007", "10"), row("alice", "12345678901234567890123", "0")]))
    assert.deepStrictEqual(read.map(({ custId, tnNum, tnValue, sequenceNumber }) => ({ custId: custId as string, tnNum, tnValue, sequenceNumber })), [
      { custId: "alice", tnNum: "7", tnValue: 10, sequenceNumber: undefined },
      { custId: "alice", tnNum: "12345678901234567890123", tnValue: 0, sequenceNumber: undefined }
    ])
  })

  it("names the first row that cannot be counted, and the field at fault", () => {
    const bad = row("alice", "2", "2.5")
    const read = Transaction.fromRows([row("alice", "1", "10"), bad, row("alice", "3", "-1")])
    assert.isTrue(Result.isFailure(read))
    if (Result.isFailure(read)) {
      assert.strictEqual(read.failure.item, bad)
      assert.strictEqual(read.failure.problem.field, "TnValue.N")
      assert.match(read.failure.problem.message, /whole number of dollars/)
    }
  })

  it("refuses a CustID past DynamoDB's key limit, counted in UTF-8 bytes", () => {
    const wide = "€".repeat(683) // 2,049 bytes in UTF-8, 683 UTF-16 units
    assert.isTrue(Result.isFailure(Transaction.fromRow(row(wide, "1", "1"))))
    assert.isTrue(Result.isSuccess(Transaction.fromRow(row("€".repeat(682), "1", "1"))))
  })

  it("refuses a TnNum longer than a DynamoDB number holds", () => {
    assert.isTrue(Result.isSuccess(Transaction.fromRow(row("a", "9".repeat(38), "1"))))
    assert.isTrue(Result.isFailure(Transaction.fromRow(row("a", "9".repeat(39), "1"))))
    assert.isTrue(Result.isSuccess(Transaction.fromRow(row("a", "1" + "0".repeat(60), "1"))))
  })
})
