import * as fc from "fast-check"
import { assert, describe, it } from "vitest"
import * as Elite from "../src/Elite.js"
import { statusFor, THRESHOLD_DOLLARS } from "../src/index.js"

describe("Elite.statusFor", () => {
  it("puts the line at exactly 1000 dollars", () => {
    assert.strictEqual(THRESHOLD_DOLLARS, 1000)
    assert.strictEqual(statusFor(999), "Normal")
    assert.strictEqual(statusFor(1000), "Elite")
    assert.strictEqual(statusFor(0), "Normal")
  })

  it("is Elite exactly from the threshold up, for any whole-dollar total", () => {
    fc.assert(fc.property(fc.maxSafeNat(), (total) => {
      assert.strictEqual(Elite.statusFor(total) === "Elite", total >= Elite.THRESHOLD_DOLLARS)
    }))
  })

  it("never takes Elite away as the total grows", () => {
    fc.assert(fc.property(fc.nat(5000), fc.nat(5000), (a, b) => {
      if (Elite.statusFor(a) === "Elite") assert.strictEqual(Elite.statusFor(a + b), "Elite")
    }))
  })
})
