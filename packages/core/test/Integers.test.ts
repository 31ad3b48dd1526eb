import * as fc from "fast-check"
import { assert, describe, it } from "vitest"
import * as Integers from "../src/Integers.js"

const byBigInt = (a: string, b: string) => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0)

/** Any integer text: canonical, or with leading zeros, or "-0". */
const integerText = fc.oneof(
  fc.bigInt({ min: -(10n ** 40n), max: 10n ** 40n }).map(String),
  fc.tuple(fc.constantFrom("", "-"), fc.stringMatching(/^0{1,3}\d{0,20}$/)).map(([sign, digits]) => sign + digits)
)

describe("Integers", () => {
  it("orders integer texts as BigInt does, canonical or not", () => {
    fc.assert(fc.property(integerText, integerText, (a, b) => Integers.compare(a, b) === byBigInt(a, b)))
  })

  it("orders canonical texts as BigInt does without parsing them", () => {
    const canonical = fc.bigInt({ min: -(10n ** 40n), max: 10n ** 40n }).map(String)
    fc.assert(fc.property(canonical, canonical, (a, b) => Integers.compareCanonical(a, b) === byBigInt(a, b)))
  })

  it("tells canonical text by whether BigInt writes it the same", () => {
    fc.assert(fc.property(integerText, (text) => Integers.isCanonical(text) === (BigInt(text).toString() === text)))
    assert.strictEqual(Integers.canonical("007"), "7")
    assert.strictEqual(Integers.canonical("-0"), "0")
    assert.strictEqual(Integers.canonical("-12"), "-12")
  })

  it("calls ids safe for number arithmetic only when all are canonical and at most 15 characters", () => {
    assert.isTrue(Integers.allSafe(["1", "999999999999999", "-99999999999999"]))
    assert.isFalse(Integers.allSafe(["1", "9999999999999999"]))
    assert.isFalse(Integers.allSafe(["007"]))
    assert.isTrue(Integers.allSafe([]))
  })
})
