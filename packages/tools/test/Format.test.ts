/**
 * `Format`: numbers and durations as the commands write them for people.
 */
import { assert, describe, it } from "vitest"
import * as Format from "../src/Format.js"

describe("Format.duration", () => {
  it("says a duration as a glance needs it", () => {
    assert.deepStrictEqual([0, 850, 1_000, 59_999, 60_000, 3_599_000, 3_600_000, 7_500_000].map(Format.duration), [
      "0 ms",
      "850 ms",
      "1 s",
      "59 s",
      "1 min",
      "59 min",
      "1 h 00 min",
      "2 h 05 min"
    ])
  })
})
