/**
 * Where a hot customer's applied log overflows to: when the log on the profile grows past a kilobyte or
 * so, its ids move to page items written once (in CustEliteEvents, under negative sort keys), and the
 * profile keeps only a few segments describing them: which pages, when they were counted, and the range
 * of ids they hold, so that a page is read back only for an id that could be in it.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import * as AppliedIds from "./AppliedIds.js"
import * as AppliedLog from "./AppliedLog.js"
import * as Integers from "./Integers.js"

/**
 * Consecutive pages of one run, described on the profile. Page `k` (`from <= k < to`) is the item whose
 * sort key is `-(base + k)`; it holds only ids within the segment's ranges, counted between `since` and
 * `at` (epoch seconds).
 *
 * @since 0.1.0
 * @category models
 */
export interface Segment {
  /** The run's base, decimal text of a bigint: a new run starts far from every sort key used before. */
  readonly base: string
  readonly from: number
  readonly to: number
  readonly since: number
  /** The newest count among its ids: the segment is forgotten, like a log entry, a retention after it. */
  readonly at: number
  /** Least and greatest TnNum among its ids, when it holds any. */
  readonly lo: string | undefined
  readonly hi: string | undefined
  /** Least and greatest stream sequence number among its `seq:` ids, when it holds any. */
  readonly seqLo: string | undefined
  readonly seqHi: string | undefined
  /** Whether it holds an id of neither form (only a hand-edited log could give one). */
  readonly odd: boolean
}

/**
 * A page to write: its sort key, its ids and when the newest of them was counted.
 *
 * @since 0.1.0
 * @category models
 */
export interface Page {
  readonly custId: string
  /** `-(base + k)`, decimal text: negative, so no EliteQualified event (positive versions) can share it. */
  readonly key: string
  /** The run it belongs to: a page that cannot be written fresh means the run must be left. */
  readonly base: string
  readonly ids: ReadonlyArray<string>
  readonly at: number
}

/**
 * The applied log's estimated size past which it moves to a page (about 50 ids): the profile stays
 * under a kilobyte, one write unit, whatever the customer's rate.
 *
 * @since 0.1.0
 * @category constants
 */
export const LOG_MAX_BYTES = 600

/**
 * Ids per page at most: under 200 KB even for 38-digit TnNums far apart (DynamoDB's item limit is
 * 400 KB), a few kilobytes for a shop's usual numbers.
 *
 * @since 0.1.0
 * @category constants
 */
export const PAGE_MAX_IDS = 4_000

/**
 * Segments kept on the profile at most: older adjacent segments are merged (their description only;
 * pages are never rewritten), so recent ids stay precisely located and the profile stays small.
 *
 * @since 0.1.0
 * @category constants
 */
export const MAX_SEGMENTS = 4

/** Pages per run at most; runs are `RUN_SPAN` apart so that no two runs share a sort key. */
const RUN_SPAN = 1_000_000_000n

/**
 * Extra time a page item lives after its segment is forgotten, for DynamoDB's TTL (`ExpiresAt`).
 *
 * @since 0.1.0
 * @category constants
 */
export const TTL_MARGIN_SECONDS = 60 * 60

const digits = /^-?\d+$/
const SEQ = "seq:"

/** An id's kind, and its value as canonical text (compared with `Integers`, not parsed). */
type Kind = { readonly _tag: "TnNum"; readonly value: string } | { readonly _tag: "Seq"; readonly value: string } | { readonly _tag: "Odd" }

const kindOf = (id: string): Kind => {
  if (digits.test(id)) return { _tag: "TnNum", value: Integers.canonical(id) }
  const rest = id.startsWith(SEQ) ? id.slice(SEQ.length) : ""
  return rest !== "" && digits.test(rest) ? { _tag: "Seq", value: Integers.canonical(rest) } : { _tag: "Odd" }
}

const within = (value: string, lo: string | undefined, hi: string | undefined) =>
  lo !== undefined && hi !== undefined && Integers.compare(lo, value) <= 0 && Integers.compare(value, hi) <= 0

/**
 * Whether a segment's pages could hold `id`; `false` is certain.
 *
 * @since 0.1.0
 * @category guards
 */
export const mayHold = (segment: Segment, id: string): boolean => {
  const kind = kindOf(id)
  return kind._tag === "TnNum"
    ? within(kind.value, segment.lo, segment.hi)
    : kind._tag === "Seq"
    ? within(kind.value, segment.seqLo, segment.seqHi)
    : segment.odd
}

/**
 * Whether a segment is still remembered at `nowSeconds`: the same rule as a log entry's.
 *
 * @since 0.1.0
 * @category guards
 */
export const isLive = (segment: Segment, nowSeconds: number, retentionSeconds: number = AppliedLog.RETENTION_SECONDS): boolean =>
  segment.at > nowSeconds - retentionSeconds

/**
 * The sort key of page `k` of a run.
 *
 * @since 0.1.0
 * @category encoding
 */
export const pageKey = (base: string, k: number): string => (-(BigInt(base) + BigInt(k))).toString()

/**
 * The run a page's sort key belongs to (runs start at multiples of the run span).
 *
 * @since 0.1.0
 * @category encoding
 */
export const baseOf = (key: string): string => ((-BigInt(key) / RUN_SPAN) * RUN_SPAN).toString()

/**
 * The sort keys of the live pages that could hold any of `ids`: what must be read before `ids` can be
 * told new or counted.
 *
 * @since 0.1.0
 * @category rules
 */
export const toRead = (
  segments: ReadonlyArray<Segment>,
  ids: Iterable<string>,
  nowSeconds: number,
  retentionSeconds: number = AppliedLog.RETENTION_SECONDS
): ReadonlyArray<string> => {
  const live = segments.filter((s) => isLive(s, nowSeconds, retentionSeconds))
  const wanted = new Set<Segment>()
  for (const id of ids) {
    for (const s of live) if (!wanted.has(s) && mayHold(s, id)) wanted.add(s)
    if (wanted.size === live.length) break
  }
  return [...wanted].flatMap((s) => Array.from({ length: s.to - s.from }, (_, i) => pageKey(s.base, s.from + i)))
}

/**
 * The estimated bytes an id takes in the applied log on the profile: the id, its counted-at number, a
 * map entry's overhead.
 *
 * @since 0.1.0
 * @category sizes
 */
export const logEntryBytes = (id: string): number => utf8Bytes(id) + 8

/**
 * The applied log's estimated size on the profile.
 *
 * @since 0.1.0
 * @category sizes
 */
export const logBytes = (log: AppliedLog.AppliedLog): number => {
  let bytes = 0
  for (const id of log.keys()) bytes += logEntryBytes(id)
  return bytes
}

const utf8Bytes = (s: string): number => {
  let bytes = 0
  for (const ch of s) {
    const code = ch.codePointAt(0) ?? 0
    bytes += code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4
  }
  return bytes
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Spill {
  readonly log: AppliedLog.AppliedLog
  readonly segments: ReadonlyArray<Segment>
  readonly pages: ReadonlyArray<Page>
}

/**
 * Keeps the log on the profile small: drops forgotten segments and, when `log` has grown past
 * `LOG_MAX_BYTES`, moves all of it to new pages (sorted, so each page covers a narrow range) described by
 * new segments. New pages continue the newest run, unless `avoidBase` says a run at or below it has a
 * sort key taken (an earlier life of the profile, or a writer that lost its race): then a new run starts
 * past it and past every run this profile knows.
 *
 * @since 0.1.0
 * @category rules
 */
export const spill = (
  custId: string,
  log: AppliedLog.AppliedLog,
  segments: ReadonlyArray<Segment>,
  nowSeconds: number,
  options: { readonly retentionSeconds?: number | undefined; readonly avoidBase?: string | undefined } = {}
): Spill => {
  const retentionSeconds = options.retentionSeconds ?? AppliedLog.RETENTION_SECONDS
  const live = segments.filter((s) => isLive(s, nowSeconds, retentionSeconds))
  if (logBytes(log) <= LOG_MAX_BYTES) return { log, segments: live, pages: [] }
  const chunks = chunk(sortIds([...log.keys()]))
  const last = live.at(-1)
  const avoid = options.avoidBase === undefined ? undefined : BigInt(options.avoidBase)
  const continues = last !== undefined && (avoid === undefined || BigInt(last.base) > avoid) &&
    BigInt(last.to + chunks.length) < RUN_SPAN
  let base: string
  let k: number
  if (continues) {
    base = last.base
    k = last.to
  } else {
    const floor = [BigInt(nowSeconds) * RUN_SPAN, ...(avoid === undefined ? [] : [avoid + RUN_SPAN]), ...live.map((s) => BigInt(s.base) + RUN_SPAN)]
    base = floor.reduce((a, b) => (a > b ? a : b)).toString()
    k = 0
  }
  const pages: Array<Page> = []
  const added: Array<Segment> = []
  for (const ids of chunks) {
    const ats = ids.map((id) => log.get(id) ?? nowSeconds)
    const page: Page = { custId, key: pageKey(base, k), base, ids, at: Math.max(...ats) }
    pages.push(page)
    added.push({ ...describe(ids), base, from: k, to: k + 1, since: Math.min(...ats), at: page.at })
    k++
  }
  return { log: AppliedLog.empty, segments: merge([...live, ...added]), pages }
}

/** TnNums by value, then sequence numbers by value, then anything else: pages with narrow ranges. */
const sortIds = (ids: ReadonlyArray<string>): ReadonlyArray<string> => {
  const rank = (k: Kind) => (k._tag === "TnNum" ? 0 : k._tag === "Seq" ? 1 : 2)
  const keyed = ids.map((id) => ({ id, kind: kindOf(id) }))
  return keyed.sort((a, b) => {
    const r = rank(a.kind) - rank(b.kind)
    if (r !== 0) return r
    if (a.kind._tag !== "Odd" && b.kind._tag !== "Odd") return Integers.compareCanonical(a.kind.value, b.kind.value)
    return a.id < b.id ? -1 : a.id > b.id ? 1 : 0
  }).map((k) => k.id)
}

const chunk = (ids: ReadonlyArray<string>): ReadonlyArray<ReadonlyArray<string>> =>
  Array.from({ length: Math.ceil(ids.length / PAGE_MAX_IDS) }, (_, i) => ids.slice(i * PAGE_MAX_IDS, (i + 1) * PAGE_MAX_IDS))

/** The lower and the higher of a bound so far and a canonical value. */
const lower = (bound: string | undefined, value: string) => (bound === undefined || Integers.compareCanonical(value, bound) < 0 ? value : bound)
const higher = (bound: string | undefined, value: string) => (bound === undefined || Integers.compareCanonical(value, bound) > 0 ? value : bound)

const describe = (ids: ReadonlyArray<string>): Pick<Segment, "lo" | "hi" | "seqLo" | "seqHi" | "odd"> => {
  let lo: string | undefined
  let hi: string | undefined
  let seqLo: string | undefined
  let seqHi: string | undefined
  let odd = false
  for (const id of ids) {
    const kind = kindOf(id)
    if (kind._tag === "TnNum") {
      lo = lower(lo, kind.value)
      hi = higher(hi, kind.value)
    } else if (kind._tag === "Seq") {
      seqLo = lower(seqLo, kind.value)
      seqHi = higher(seqHi, kind.value)
    } else odd = true
  }
  return { lo, hi, seqLo, seqHi, odd }
}

const minText = (a: string | undefined, b: string | undefined) =>
  a === undefined ? b : b === undefined ? a : Integers.compare(a, b) <= 0 ? a : b
const maxText = (a: string | undefined, b: string | undefined) =>
  a === undefined ? b : b === undefined ? a : Integers.compare(a, b) >= 0 ? a : b

const join = (a: Segment, b: Segment): Segment => ({
  base: a.base,
  from: a.from,
  to: b.to,
  since: Math.min(a.since, b.since),
  at: Math.max(a.at, b.at),
  lo: minText(a.lo, b.lo),
  hi: maxText(a.hi, b.hi),
  seqLo: minText(a.seqLo, b.seqLo),
  seqHi: maxText(a.seqHi, b.seqHi),
  odd: a.odd || b.odd
})

/**
 * Merges adjacent segments of one run while there are more than `MAX_SEGMENTS`, the pair with the fewest
 * pages first (the older on a tie), never the newest: older segments grow, the newest stays one spill.
 */
const merge = (segments: ReadonlyArray<Segment>): ReadonlyArray<Segment> => {
  const out = [...segments]
  while (out.length > MAX_SEGMENTS) {
    let best = -1
    let bestPages = Infinity
    // The newest segment is never merged: a redelivery of recent ids reads one page.
    for (let i = 0; i + 2 < out.length; i++) {
      const a = out[i]
      const b = out[i + 1]
      if (a === undefined || b === undefined || a.base !== b.base || a.to !== b.from) continue
      const pages = b.to - a.from
      if (pages < bestPages) {
        best = i
        bestPages = pages
      }
    }
    const a = out[best]
    const b = out[best + 1]
    if (a === undefined || b === undefined) break
    out.splice(best, 2, join(a, b))
  }
  return out
}

// ---------------------------------------------------------------------------------------------------
// Items.

const IntText = Schema.String.check(Schema.isPattern(digits, { message: "must be an integer" }))
const Count = Schema.String.check(Schema.isPattern(/^\d+$/, { message: "must be a whole number" }))

/**
 * One segment as the profile's `AppliedPages` list holds it (short names: it is rewritten with every
 * write of a hot customer).
 *
 * @since 0.1.0
 * @category schemas
 */
export const SegmentItem = Schema.Struct({
  M: Schema.Struct({
    B: Schema.Struct({ N: Count }),
    F: Schema.Struct({ N: Count }),
    T: Schema.Struct({ N: Count }),
    S: Schema.Struct({ N: Count }),
    A: Schema.Struct({ N: Count }),
    L: Schema.optional(Schema.Struct({ N: IntText })),
    H: Schema.optional(Schema.Struct({ N: IntText })),
    QL: Schema.optional(Schema.Struct({ N: IntText })),
    QH: Schema.optional(Schema.Struct({ N: IntText })),
    O: Schema.optional(Schema.Struct({ BOOL: Schema.Boolean }))
  })
})

/**
 * @since 0.1.0
 * @category decoding
 */
export const fromSegmentItem = ({ M: m }: typeof SegmentItem.Type): Segment => ({
  base: BigInt(m.B.N).toString(),
  from: Number(m.F.N),
  to: Number(m.T.N),
  since: Number(m.S.N),
  at: Number(m.A.N),
  lo: m.L?.N,
  hi: m.H?.N,
  seqLo: m.QL?.N,
  seqHi: m.QH?.N,
  odd: m.O?.BOOL ?? false
})

/** The DynamoDB attribute values these items use, shaped to fit the SDK's `AttributeValue`. */
type Attribute = { N: string } | { S: string } | { BOOL: boolean }

const optionalN = (name: string, value: string | undefined): Record<string, Attribute> =>
  value === undefined ? {} : { [name]: { N: value } }

/**
 * @since 0.1.0
 * @category encoding
 */
export const toSegmentItem = (s: Segment): { M: Record<string, Attribute> } => ({
  M: {
    B: { N: s.base },
    F: { N: String(s.from) },
    T: { N: String(s.to) },
    S: { N: String(s.since) },
    A: { N: String(s.at) },
    ...optionalN("L", s.lo),
    ...optionalN("H", s.hi),
    ...optionalN("QL", s.seqLo),
    ...optionalN("QH", s.seqHi),
    ...(s.odd ? { O: { BOOL: true } } : {})
  }
})

/**
 * What a page item says it is, in CustEliteEvents beside the customer's events.
 *
 * @since 0.1.0
 * @category constants
 */
export const ITEM_TYPE = "AppliedPage"

/**
 * The page item to put: the ids as `AppliedIds` text, and `ExpiresAt` for the table's TTL.
 *
 * @since 0.1.0
 * @category encoding
 */
export const toPageItem = (page: Page, retentionSeconds: number = AppliedLog.RETENTION_SECONDS): Record<string, Attribute> => ({
  CustID: { S: page.custId },
  ProfileVersion: { N: page.key },
  ItemType: { S: ITEM_TYPE },
  AppliedIds: { S: AppliedIds.encode(page.ids) },
  CountedAt: { N: String(page.at) },
  ExpiresAt: { N: String(page.at + retentionSeconds + TTL_MARGIN_SECONDS) }
})

/**
 * The part of a page item read back: its key and its ids.
 *
 * @since 0.1.0
 * @category schemas
 */
export const PageItem = Schema.Struct({
  ProfileVersion: Schema.Struct({ N: IntText }),
  AppliedIds: Schema.Struct({ S: Schema.String })
})

/**
 * Whether a CustEliteEvents item is a page rather than an event: pages alone have negative sort keys.
 * Every reader of that table that lists events skips them.
 *
 * @since 0.1.0
 * @category guards
 */
export const isPageItem = (item: { readonly ProfileVersion?: { readonly N?: string | undefined } | undefined }): boolean =>
  item.ProfileVersion?.N?.trim().startsWith("-") ?? false
