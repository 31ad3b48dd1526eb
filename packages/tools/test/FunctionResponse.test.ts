import { assert, describe, it } from "vitest"
import * as FunctionResponse from "../src/local/FunctionResponse.js"

// Sequence numbers grow in length: as strings "1000…" sorts before "9000…", as numbers after.
const batch = ["900000000000000000001", "900000000000000000002", "1000000000000000000010", "1000000000000000000011"]
const verdict = (response: unknown, report = true) => FunctionResponse.verdict(response, batch, report)
const failures = (...ids: ReadonlyArray<unknown>) => ({ batchItemFailures: ids.map((itemIdentifier) => ({ itemIdentifier })) })

describe("FunctionResponse.verdict", () => {
  it("is success for no response, an empty one, or an absent, null or empty list", () => {
    for (const response of [undefined, null, {}, { batchItemFailures: null }, { batchItemFailures: [] }]) {
      assert.deepStrictEqual(verdict(response), { _tag: "Success" }, JSON.stringify(response))
    }
  })

  it("resumes from the lowest failed sequence number, compared as numbers, whatever the order reported", () => {
    assert.deepStrictEqual(verdict(failures(batch[2], batch[1], batch[3])), { _tag: "FailedFrom", index: 1 })
    assert.deepStrictEqual(verdict(failures(batch[0])), { _tag: "FailedFrom", index: 0 })
  })

  it("fails the whole batch on an identifier that is empty, null, missing, or not in the batch", () => {
    for (const response of [
      failures(""),
      failures(null),
      { batchItemFailures: [{ sequenceNumber: batch[1] }] },
      failures("900000000000000000003"),
      failures(batch[1], "nope"),
      { batchItemFailures: "all" },
      "ok"
    ]) {
      assert.strictEqual(verdict(response)._tag, "BatchFailed", JSON.stringify(response))
    }
  })

  it("ignores the response when the mapping does not report batch item failures", () => {
    assert.deepStrictEqual(verdict(failures(batch[0]), false), { _tag: "Success" })
    assert.deepStrictEqual(verdict("ok", false), { _tag: "Success" })
  })
})
