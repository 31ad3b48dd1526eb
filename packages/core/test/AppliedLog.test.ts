import * as Result from "effect/Result"
import * as fc from "fast-check"
import { assert, describe, it } from "vitest"
import * as AppliedLog from "../src/AppliedLog.js"

describe("AppliedLog", () => {
  it("writes keys counted at one time as one group, oldest time first", () => {
    const log = AppliedLog.fromEntries([["12", 1_800_000_060], ["10", 1_800_000_000], ["11", 1_800_000_000]])
    assert.strictEqual(AppliedLog.encode(log), "1800000000:a+1;1800000060:c")
  })

  it("reads back any log: TnNums past 2^53, sequence-number keys and odd ones", () => {
    const key = fc.oneof(
      fc.bigInt({ min: -(10n ** 38n) + 1n, max: 10n ** 38n - 1n }).map(String),
      fc.bigInt({ min: 0n, max: 10n ** 40n }).map((n) => `seq:${n}`),
      fc.string({ minLength: 1 })
    )
    const at = fc.integer({ min: 0, max: 4_000_000_000 })
    fc.assert(fc.property(fc.array(fc.tuple(key, at)), (entries) => {
      const log = AppliedLog.fromEntries(entries)
      const back = Result.getOrThrow(AppliedLog.decode(AppliedLog.encode(log)))
      assert.deepStrictEqual(new Map([...back].sort()), new Map([...log].sort()))
    }))
  })

  it("takes a few bytes a key where a map of numbers took about twenty", () => {
    const log = AppliedLog.fromEntries(Array.from({ length: 40 }, (_, i) => [String(1_000_000 + i * 7), 1_800_000_000]))
    assert.isAtMost(AppliedLog.encode(log).length, 4 * 40)
  })

  it("says what is wrong with text it did not write", () => {
    assert.deepStrictEqual(AppliedLog.decode("1800000000"), Result.fail(`"1800000000" does not start with a time in seconds and ":"`))
    assert.isTrue(Result.isFailure(AppliedLog.decode("1800000000:zz!")))
    assert.isTrue(Result.isFailure(AppliedLog.decode("-5:7")))
  })
})
