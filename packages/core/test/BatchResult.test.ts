import * as fc from "fast-check"
import * as Result from "effect/Result"
import { assert, describe, it } from "vitest"
import * as BatchResult from "../src/BatchResult.js"

describe("BatchResult.fromFailures", () => {
  it("reports each failed sequence number once, lowest first, compared as numbers not text", () => {
    const result = BatchResult.fromFailures([
      "300000000000000000000001",
      "99999999999999999999",
      "300000000000000000000001",
      "300000000000000000000000"
    ])
    assert.deepStrictEqual(Result.getOrThrow(result).batchItemFailures.map((f) => f.itemIdentifier), [
      "99999999999999999999",
      "300000000000000000000000",
      "300000000000000000000001"
    ])
  })

  it("is empty when nothing failed", () => {
    assert.deepStrictEqual(Result.getOrThrow(BatchResult.fromFailures([])), { batchItemFailures: [] })
  })

  it("refuses to report a failure without a sequence number, so the invocation fails instead", () => {
    const result = BatchResult.fromFailures(["5", undefined])
    assert.isTrue(Result.isFailure(result))
    if (Result.isFailure(result)) assert.strictEqual(result.failure.records, 1)
  })

  it("orders 40-digit sequence numbers exactly where a double would tie them", () => {
    fc.assert(fc.property(fc.bigInt({ min: 10n ** 39n, max: 10n ** 40n - 2n }), (n) => {
      assert.strictEqual(BatchResult.compareSequenceNumbers(String(n), String(n + 1n)), -1)
      assert.strictEqual(BatchResult.compareSequenceNumbers(String(n + 1n), String(n)), 1)
    }))
  })
})
