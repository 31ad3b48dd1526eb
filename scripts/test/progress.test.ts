/**
 * The progress line: its format with and without a total, and how often a reporter draws it on a
 * terminal and in logs, on a fake stream and a fake clock.
 */
import { afterEach, assert, describe, it, vi } from "vitest"
import * as Progress from "../lib/Progress.js"

const state = (overrides: Partial<Progress.State>): Progress.State => ({
  label: "backfill",
  done: 0,
  total: undefined,
  elapsedMillis: 0,
  unit: "rows",
  ...overrides
})

/** A stream that keeps what is written, and a clock the test moves. */
const fixture = (isTTY: boolean, columns?: number) => {
  const chunks: Array<string> = []
  let t = 0
  const stream: Progress.Sink = {
    isTTY,
    ...(columns === undefined ? {} : { columns }),
    write: (chunk) => chunks.push(chunk)
  }
  return { chunks, stream, now: () => t, at: (millis: number) => void (t = millis) }
}

// Anything from ESC or CR that a log file would show as garbage.
const controlCharacters = /[\r\x1b]/

describe("render", () => {
  it("shows bar, count, percent, rate and ETA when the total is known", () => {
    assert.strictEqual(
      Progress.render(state({ done: 1234, total: 4000, elapsedMillis: 1520 })),
      "backfill [#########---------------------] 1,234/4,000 rows  31%  812 rows/s  ETA 3s"
    )
  })

  it("shows only count and rate without a total", () => {
    assert.strictEqual(
      Progress.render(state({ done: 1_234_567, elapsedMillis: 2000 })),
      "backfill 1,234,567 rows  617,284 rows/s"
    )
    assert.strictEqual(Progress.render(state({ done: 10, total: 0, elapsedMillis: 2000 })), "backfill 10 rows  5 rows/s")
  })

  it("drops bar, percent and ETA once done passes the approximate total", () => {
    assert.strictEqual(
      Progress.render(state({ done: 4100, total: 4000, elapsedMillis: 2000 })),
      "backfill 4,100 rows  2,050 rows/s"
    )
  })

  it("omits rate and ETA before one second or before any progress", () => {
    assert.strictEqual(
      Progress.render(state({ done: 500, total: 1000, elapsedMillis: 999 }), 10),
      "backfill [#####-----] 500/1,000 rows  50%"
    )
    assert.strictEqual(
      Progress.render(state({ done: 0, total: 1000, elapsedMillis: 60_000 }), 10),
      "backfill [----------] 0/1,000 rows  0%"
    )
    assert.strictEqual(Progress.render(state({ done: 0, elapsedMillis: 0 })), "backfill 0 rows")
  })

  it("shows a slow rate with one decimal", () => {
    assert.strictEqual(Progress.render(state({ done: 5, elapsedMillis: 2000 })), "backfill 5 rows  2.5 rows/s")
  })

  it("claims 100% and a full bar only when done, and then shows no ETA", () => {
    assert.strictEqual(
      Progress.render(state({ done: 999, total: 1000, elapsedMillis: 10_000 }), 10),
      "backfill [#########-] 999/1,000 rows  99%  100 rows/s  ETA 0s"
    )
    assert.strictEqual(
      Progress.render(state({ done: 1000, total: 1000, elapsedMillis: 10_000 }), 10),
      "backfill [##########] 1,000/1,000 rows  100%  100 rows/s"
    )
  })

  it("formats the ETA in seconds, minutes or hours", () => {
    // 1 of 2 done in 4 s: 4 s to go.
    assert.include(Progress.render(state({ done: 1, total: 2, elapsedMillis: 4000 })), "ETA 4s")
    // 100 of 2,600 in 5 s: 2,500 at 20/s is 125 s.
    assert.include(Progress.render(state({ done: 100, total: 2600, elapsedMillis: 5000 })), "ETA 2m05s")
    assert.deepStrictEqual(
      [4_000, 59_400, 59_600, 125_000, 3_599_400, 3_720_000, 5_370_000, 36_000_000].map(Progress.formatDuration),
      ["4s", "59s", "1m00s", "2m05s", "59m59s", "1h02m", "1h29m", "10h00m"]
    )
  })
})

describe("make", () => {
  afterEach(() => {
    vi.restoreAllMocks()
  })

  it("writes a plain line every 5 s in logs, and one at finish", () => {
    const f = fixture(false)
    const progress = Progress.make({ label: "reconcile", unit: "items", total: 100, stream: f.stream, now: f.now })
    f.at(1000)
    progress.advance(10)
    assert.deepStrictEqual(f.chunks, [])
    f.at(5000)
    progress.advance(10)
    f.at(9999)
    progress.advance(10)
    assert.deepStrictEqual(f.chunks, ["reconcile [######------------------------] 20/100 items  20%  4 items/s  ETA 20s\n"])
    f.at(10_000)
    progress.advance(10)
    f.at(12_000)
    progress.finish()
    assert.deepStrictEqual(f.chunks.slice(1), [
      "reconcile [############------------------] 40/100 items  40%  4 items/s  ETA 15s\n",
      "reconcile [############------------------] 40/100 items  40%  3.3 items/s  ETA 18s\n"
    ])
    for (const chunk of f.chunks) {
      assert.isTrue(chunk.endsWith("\n"))
      assert.notMatch(chunk, controlCharacters)
    }
  })

  it("redraws one line in place every 100 ms on a terminal, and ends it at finish", () => {
    const f = fixture(true)
    const progress = Progress.make({ label: "backfill", unit: "rows", stream: f.stream, now: f.now })
    f.at(99)
    progress.advance()
    assert.deepStrictEqual(f.chunks, [])
    f.at(100)
    progress.advance()
    f.at(150)
    progress.advance()
    f.at(1000)
    progress.advance()
    assert.deepStrictEqual(f.chunks, ["\rbackfill 2 rows\x1b[K", "\rbackfill 4 rows  4 rows/s\x1b[K"])
    f.at(2000)
    progress.finish()
    assert.strictEqual(f.chunks[2], "\rbackfill 4 rows  2 rows/s\x1b[K\n")
    assert.isFalse(f.chunks.slice(0, 2).some((chunk) => chunk.includes("\n")))
  })

  it("honours a given interval and a total set later", () => {
    const f = fixture(false)
    const progress = Progress.make({ label: "backfill", unit: "rows", stream: f.stream, now: f.now, intervalMillis: 1000 })
    f.at(1000)
    progress.advance(5)
    progress.setTotal(10)
    f.at(2000)
    progress.advance(5)
    assert.deepStrictEqual(f.chunks, [
      "backfill 5 rows  5 rows/s\n",
      "backfill [##############################] 10/10 rows  100%  5 rows/s\n"
    ])
  })

  it("cuts a line to the terminal's width so that it cannot wrap", () => {
    const f = fixture(true, 20)
    const progress = Progress.make({ label: "backfill", unit: "rows", total: 4000, stream: f.stream, now: f.now })
    progress.finish()
    assert.deepStrictEqual(f.chunks, ["\rbackfill [---------\x1b[K\n"])
  })

  it("draws once at finish, then ignores further calls", () => {
    const f = fixture(false)
    const progress = Progress.make({ label: "backfill", unit: "rows", stream: f.stream, now: f.now })
    progress.advance(3)
    progress.finish()
    f.at(60_000)
    progress.advance(3)
    progress.finish()
    assert.deepStrictEqual(f.chunks, ["backfill 3 rows\n"])
  })

  it("writes to stderr by default, never to stdout", () => {
    const stdout = vi.spyOn(process.stdout, "write").mockImplementation(() => true)
    const stderr = vi.spyOn(process.stderr, "write").mockImplementation(() => true)
    const progress = Progress.make({ label: "backfill", unit: "rows", now: () => 0 })
    progress.advance(7)
    progress.finish()
    const written = stderr.mock.calls.map(([chunk]) => String(chunk)).join("")
    const toStdout = stdout.mock.calls.length
    vi.restoreAllMocks()
    assert.strictEqual(toStdout, 0)
    assert.include(written, "backfill 7 rows")
  })
})
