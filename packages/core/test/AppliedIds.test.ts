import * as Result from "effect/Result"
import * as fc from "fast-check"
import { assert, describe, it } from "vitest"
import * as AppliedIds from "../src/AppliedIds.js"

const roundTrip = (ids: ReadonlyArray<string>) => Result.getOrThrow(AppliedIds.decode(AppliedIds.encode(ids)))

describe("AppliedIds", () => {
  it("writes a run of consecutive TnNums as its first and its length", () => {
    const ids = Array.from({ length: 100 }, (_, i) => String(1_000_001 + i))
    assert.strictEqual(AppliedIds.encode(ids), `${(1_000_001).toString(36)}+${(99).toString(36)}`)
    assert.deepStrictEqual(roundTrip(ids), ids)
  })

  it("takes about two bytes a purchase for TnNums a dozen apart", () => {
    const ids = Array.from({ length: 100 }, (_, i) => String(1_000_000 + i * 13 + ((i * 7) % 5)))
    assert.isAtMost(AppliedIds.encode(ids).length, 2.2 * ids.length)
  })

  it("keeps sequence-number keys and any other id apart, and reads back every one", () => {
    const ids = ["5", "-3", "seq:100000000000000000001", "seq:100000000000000000007", "007", "a,b|c", "seq:x"]
    assert.sameMembers([...roundTrip(ids)], ids)
  })

  it("reads back any set of ids, in sorted order", () => {
    const id = fc.oneof(
      fc.bigInt({ min: -(10n ** 38n) + 1n, max: 10n ** 38n - 1n }).map(String),
      fc.bigInt({ min: 0n, max: 10n ** 40n }).map((n) => `seq:${n}`),
      fc.string({ minLength: 1 })
    )
    fc.assert(fc.property(fc.uniqueArray(id), (ids) => {
      assert.sameMembers([...roundTrip(ids)], ids)
    }))
  })

  it("refuses text it did not write", () => {
    for (const text of ["1,0", "1+-2", "!", "1|2|3|4", "1,,2"]) assert.isTrue(Result.isFailure(AppliedIds.decode(text)), text)
  })

})
