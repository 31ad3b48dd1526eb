/**
 * The EliteQualified events in CustEliteEvents: listed in the order the promotions happened, and
 * followed live by polling the table (what `pnpm elite events` and `pnpm elite watch` show).
 */
import * as AppliedPages from "@dyna/core/AppliedPages"
import * as Promotion from "@dyna/core/Promotion"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Ref from "effect/Ref"
import * as Result from "effect/Result"
import * as Schedule from "effect/Schedule"
import { Tables } from "@dyna/aws/Tables"
import * as Scan from "./Scan.js"

/** A CustEliteEvents item that cannot be read: its key and the attribute at fault. */
export interface Malformed {
  /** `CustID#ProfileVersion`, the item's key as stored. */
  readonly key: string
  readonly custId: string
  readonly reason: string
}

export interface Listing {
  /** Oldest promotion first (by `qualifiedAt` as an instant, then `CustID`, then version). */
  readonly events: ReadonlyArray<Promotion.Promotion>
  readonly malformed: ReadonlyArray<Malformed>
  /** How many items the Scan read. */
  readonly scanned: number
}

/** An event's key, `CustID#ProfileVersion`: what tells one promotion from another. */
export const keyOf = (p: Promotion.Promotion): string => `${p.custId}#${p.profileVersion}`

// The key attributes are the table's own, so their types are fixed; anything else is read by the schema.
const rawKeyOf = (item: Scan.Item) => ({
  custId: item["CustID"]?.S ?? "",
  key: `${item["CustID"]?.S ?? ""}#${item["ProfileVersion"]?.N ?? ""}`
})

const compareText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)

const byTime = (a: Promotion.Promotion, b: Promotion.Promotion) =>
  Date.parse(a.qualifiedAt) - Date.parse(b.qualifiedAt) || compareText(a.custId, b.custId) ||
  a.profileVersion - b.profileVersion

/**
 * Scanned items as events, oldest first, and the items that cannot be read (a `QualifiedAt` that is
 * no timestamp counts as unreadable: it could be neither ordered nor filtered). With `since`, only the
 * events at or after it; the malformed are always reported. The pages a hot customer's applied log
 * overflows to share the table under negative sort keys (`AppliedPages`): they are no events, and left out.
 */
export const read = (items: ReadonlyArray<Scan.Item>, since?: Date): Listing => {
  const events: Array<Promotion.Promotion> = []
  const malformed: Array<Malformed> = []
  for (const item of items) {
    if (AppliedPages.isPageItem(item)) continue
    const decoded = Promotion.fromItem(item)
    if (Result.isFailure(decoded)) {
      malformed.push({ ...rawKeyOf(item), reason: decoded.failure })
    } else if (Number.isNaN(Date.parse(decoded.success.qualifiedAt))) {
      malformed.push({ ...rawKeyOf(item), reason: "QualifiedAt.S must be an ISO-8601 timestamp" })
    } else if (since === undefined || Date.parse(decoded.success.qualifiedAt) >= since.getTime()) {
      events.push(decoded.success)
    }
  }
  return {
    events: events.sort(byTime),
    malformed: malformed.sort((a, b) => compareText(a.key, b.key)),
    scanned: items.length
  }
}

export interface ListOptions {
  /** Only the events at or after this time. */
  readonly since?: Date | undefined
  /** Strongly consistent pages (twice the read units). */
  readonly consistent?: boolean | undefined
  /** Called with each page's item count as it arrives: a progress bar's feed. */
  readonly onPage?: ((items: number) => Effect.Effect<void>) | undefined
}

/** Every EliteQualified event, oldest first; a malformed item is reported in `malformed`, never thrown on. */
export const list = Effect.fn("EliteEvents.list")(function*(options: ListOptions = {}) {
  const tables = yield* Tables
  const items: Array<Scan.Item> = []
  yield* Scan.forEachPage(tables.events, (page) =>
    Effect.gen(function*() {
      items.push(...page)
      if (options.onPage !== undefined) yield* options.onPage(page.length)
    }), { consistent: options.consistent })
  return read(items, options.since)
})

/** How often `watch` looks for new events, by default. */
export const POLL_EVERY: Duration.Input = "500 millis"

export interface WatchOptions {
  /**
   * What to show of the events already there: `"now"` (the default) none, only what comes after the
   * start; `"all"` every one, oldest first; a `Date`, those at or after it. Then the new ones follow.
   */
  readonly from?: "now" | "all" | Date | undefined
  /** The interval between polls; `POLL_EVERY` by default. */
  readonly every?: Duration.Input | undefined
  /** Called once the events already there are read (and those asked for shown), before the first poll. */
  readonly onReady?: ((existing: Listing) => Effect.Effect<void>) | undefined
  /** Called once per event, in the order the promotions happened within each poll. */
  readonly onEvent: (event: Promotion.Promotion) => Effect.Effect<void>
  /** Called once per unreadable item. */
  readonly onMalformed?: ((item: Malformed) => Effect.Effect<void>) | undefined
}

/**
 * Follows CustEliteEvents: reads it once (consistently, so nothing already there passes for new), then
 * Scans it every `every` and calls `onEvent` for each event whose key it has not seen. Runs until
 * interrupted. Each poll is a full Scan: cheap on DynamoDB Local, billed per item read on AWS.
 */
export const watch = (options: WatchOptions) =>
  Effect.gen(function*() {
    const from = options.from ?? "now"
    const seen = yield* Ref.make<ReadonlySet<string>>(new Set())
    /** Marks what `listing` holds as seen; calls back for what was not seen before, if `show` says so. */
    const take = (listing: Listing, show: { readonly event: (e: Promotion.Promotion) => boolean; readonly malformed: boolean }) =>
      Effect.gen(function*() {
        const before = yield* Ref.get(seen)
        const events = listing.events.filter((e) => !before.has(keyOf(e)))
        const malformed = listing.malformed.filter((m) => !before.has(m.key))
        yield* Ref.set(seen, new Set([...before, ...events.map(keyOf), ...malformed.map((m) => m.key)]))
        if (show.malformed && options.onMalformed !== undefined) {
          yield* Effect.forEach(malformed, options.onMalformed, { discard: true })
        }
        yield* Effect.forEach(events.filter(show.event), options.onEvent, { discard: true })
      })
    const existing = yield* list({ consistent: true })
    yield* take(existing, {
      event: (e) => from === "all" || (from instanceof Date && Date.parse(e.qualifiedAt) >= from.getTime()),
      malformed: from !== "now"
    })
    if (options.onReady !== undefined) yield* options.onReady(existing)
    const poll = list().pipe(Effect.flatMap((listing) => take(listing, { event: () => true, malformed: true })))
    return yield* Effect.repeat(poll, Schedule.spaced(options.every ?? POLL_EVERY))
  })
