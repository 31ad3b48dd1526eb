import { assert, describe, it } from "vitest"
import * as Flags from "../lib/Flags.js"
import * as Format from "@dyna/tools/Format"

const problemOf = <A>(checked: Flags.Checked<A>) => (checked.ok ? undefined : checked.problem)
const valueOf = <A>(checked: Flags.Checked<A>) => (checked.ok ? checked.value : assert.fail(checked.problem))

describe("flag checks", () => {
  it("whole numbers: in range, or the flag, the range and the text in one sentence", () => {
    // Flags.segments is wholeNumber over DynamoDB's range of Scan segments.
    const segments = (text: string | undefined) => Flags.segments(text, 4)
    assert.strictEqual(valueOf(segments(undefined)), 4)
    assert.strictEqual(valueOf(segments("1")), 1)
    assert.strictEqual(valueOf(segments("1000000")), 1_000_000)
    for (const bad of ["0", "1000001", "2.5", "-3", "", "1e3", " 7", "seven"]) {
      assert.strictEqual(problemOf(segments(bad)), `--segments must be a whole number from 1 to 1000000, not ${JSON.stringify(bad)}`, bad)
    }
  })

  it("seconds: decimals allowed, given in milliseconds, bounded", () => {
    const settle = (text: string | undefined) => Flags.seconds("settle", text, 60, "default")
    assert.strictEqual(valueOf(settle(undefined)), "default")
    assert.strictEqual(valueOf(settle("0")), 0)
    assert.strictEqual(valueOf(settle("2.5")), 2_500)
    assert.strictEqual(valueOf(settle("60")), 60_000)
    for (const bad of ["61", "-1", "1s", "abc", ".5"]) {
      assert.strictEqual(problemOf(settle(bad)), `--settle must be a number of seconds from 0 to 60, not ${JSON.stringify(bad)}`, bad)
    }
  })

  it("instants: a calendar date is midnight UTC, a time needs a zone, impossible dates are refused", () => {
    const since = (text: string | undefined) => Flags.instant("since", text)
    assert.strictEqual(valueOf(since(undefined)), undefined)
    assert.strictEqual(valueOf(since("2026-11-01"))?.toISOString(), "2026-11-01T00:00:00.000Z")
    assert.strictEqual(valueOf(since("2026-11-01T09:30:00+02:00"))?.toISOString(), "2026-11-01T07:30:00.000Z")
    assert.strictEqual(valueOf(since("2024-02-29T23:59:59.5Z"))?.toISOString(), "2024-02-29T23:59:59.500Z")
    for (const bad of ["2026-02-30", "2025-02-29", "2026-11-01T09:30:00", "yesterday", "March 7", "2026-13-01", "2026-11-01T24:00Z"]) {
      assert.include(problemOf(since(bad)), `--since must be an ISO-8601 date`, bad)
      assert.include(problemOf(since(bad)), JSON.stringify(bad), bad)
    }
  })
})

describe("number formats", () => {
  it("separates thousands, spells units, and says singular once", () => {
    assert.strictEqual(Format.number(1234567.4), "1,234,567")
    assert.strictEqual(Format.count(1, "row", "rows"), "1 row")
    assert.strictEqual(Format.count(0, "row", "rows"), "0 rows")
    assert.strictEqual(Format.count(2000, "customer", "customers"), "2,000 customers")
    assert.strictEqual(Format.seconds(3_849), "3.8 s")
    assert.strictEqual(Format.seconds(12_000), "12 s")
    assert.strictEqual(Format.dollars(1050), "$1,050")
  })
})
