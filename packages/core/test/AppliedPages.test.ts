import { assert, describe, it } from "vitest"
import * as AppliedLog from "../src/AppliedLog.js"
import * as AppliedPages from "../src/AppliedPages.js"

const NOW = 1_800_000_000
const logOf = (ids: ReadonlyArray<number>, at = NOW) => AppliedLog.fromEntries(ids.map((id) => [String(id), at]))
const spread = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i * 13 + ((i * 7) % 5))

describe("AppliedPages.spill", () => {
  it("leaves a small log on the profile", () => {
    const log = logOf(spread(1_000, 50))
    const spill = AppliedPages.spill("c", log, [], NOW)
    assert.strictEqual(spill.log, log)
    assert.deepStrictEqual(spill.pages, [])
  })

  it("moves a log past its size to pages, each described by the range of ids it holds", () => {
    const ids = spread(1_000, 5_000)
    const spill = AppliedPages.spill("c", logOf(ids), [], NOW)
    assert.strictEqual(spill.log.size, 0)
    assert.deepStrictEqual(spill.pages.map((p) => p.ids.length), [4_000, 1_000])
    assert.sameMembers(spill.pages.flatMap((p) => [...p.ids]), ids.map(String))
    assert.deepStrictEqual(spill.segments.map((s) => [s.from, s.to, s.lo, s.hi]), [
      [0, 1, String(ids[0]), String(ids[3_999])],
      [1, 2, String(ids[4_000]), String(ids[4_999])]
    ])
    // Sort keys below zero, never an EliteQualified event's.
    for (const page of spill.pages) assert.isTrue(AppliedPages.isPageItem(AppliedPages.toPageItem(page)))
  })

  it("reads back only the pages that could hold an id", () => {
    const { segments } = AppliedPages.spill("c", logOf(spread(1_000, 5_000)), [], NOW)
    const keys = segments.map((s) => AppliedPages.pageKey(s.base, s.from))
    assert.deepStrictEqual(AppliedPages.toRead(segments, ["1013"], NOW), keys.slice(0, 1))
    assert.deepStrictEqual(AppliedPages.toRead(segments, ["1013", String(spread(1_000, 5_000)[4_500])], NOW), keys)
    assert.deepStrictEqual(AppliedPages.toRead(segments, ["999", "10000000", "seq:1013"], NOW), [])
    assert.deepStrictEqual(AppliedPages.toRead(segments, ["1013"], NOW + AppliedLog.RETENTION_SECONDS), [])
  })

  it("continues the run, merges old segments to keep the profile small, and forgets them after the retention", () => {
    let segments: ReadonlyArray<AppliedPages.Segment> = []
    const keys: Array<string> = []
    for (let i = 0; i < 20; i++) {
      const spill = AppliedPages.spill("c", logOf(spread(i * 10_000, 300), NOW + i), segments, NOW + i)
      segments = spill.segments
      keys.push(...spill.pages.map((p) => p.key))
    }
    assert.strictEqual(new Set(keys).size, 20)
    assert.isAtMost(segments.length, AppliedPages.MAX_SEGMENTS)
    assert.deepStrictEqual([segments[0]?.from, segments.at(-1)?.to], [0, 20])
    // The newest pages stay precisely located: an id of the last spill reads one page.
    assert.strictEqual(AppliedPages.toRead(segments, [String(19 * 10_000)], NOW + 20).length, 1)
    const later = AppliedPages.spill("c", AppliedLog.empty, segments, NOW + 19 + AppliedLog.RETENTION_SECONDS)
    assert.deepStrictEqual(later.segments, [])
  })

  it("starts a new run past a run whose key was found taken", () => {
    const first = AppliedPages.spill("c", logOf(spread(0, 300)), [], NOW)
    const taken = first.pages[0]?.base ?? ""
    const again = AppliedPages.spill("c", logOf(spread(10_000, 300)), first.segments, NOW, { avoidBase: taken })
    assert.isTrue(BigInt(again.pages[0]?.base ?? "0") > BigInt(taken))
    assert.strictEqual(AppliedPages.baseOf(again.pages[0]?.key ?? ""), again.pages[0]?.base)
    assert.isFalse(first.pages.some((p) => again.pages.some((q) => q.key === p.key)))
  })
})
