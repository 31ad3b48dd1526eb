/**
 * The Elite invite list from CustProfile: a (parallel) Scan read page by page, keeping only the Elite
 * and the unreadable items, then listed, ordered and written as CSV by the core's `EliteList`.
 */
import * as EliteList from "@dyna/core/EliteList"
import * as Effect from "effect/Effect"
import { Tables } from "@dyna/aws/Tables"
import * as Scan from "./Scan.js"

export interface Options {
  /** Only customers whose `EliteSince` is at or after it (those without one are left off). */
  readonly since?: Date | undefined
  /** Scan segments read side by side (DynamoDB's `TotalSegments`); 1 by default. */
  readonly segments?: number | undefined
  /** Called with each page's item count as it arrives (from several segments at once): a progress bar's feed. */
  readonly onPage?: ((items: number) => Effect.Effect<void>) | undefined
  /**
   * Every cell exactly as stored. By default a cell a spreadsheet would run as a formula (`=`, `+`, `-`,
   * `@`, tab, CR first) gets a leading `'`, numbers excepted (see `EliteList.toCsv`).
   */
  readonly raw?: boolean | undefined
}

export interface Export {
  /** The whole document: header, then one record per row, CRLF after each (RFC 4180, UTF-8); formulas neutralised unless `raw`. */
  readonly csv: string
  /** The customers on the list, in the order of the CSV. */
  readonly rows: ReadonlyArray<EliteList.EliteRow>
  /** Items left off because they cannot be read, by `CustID`, each with the attribute at fault. */
  readonly skipped: ReadonlyArray<EliteList.Skipped>
  /** How many columns the CSV has: the fixed ones and every extra attribute any row carries. */
  readonly columns: number
  /** How many CustProfile items the Scan read. */
  readonly scanned: number
  /** How many cells got a leading `'` because a spreadsheet would run them as formulas; 0 with `raw`. */
  readonly neutralised: number
}

const custIdOf = (item: Scan.Item): string => item["CustID"]?.S ?? ""

const byCustId = (a: EliteList.Skipped, b: EliteList.Skipped) => (a.custId < b.custId ? -1 : a.custId > b.custId ? 1 : 0)

/** The number of columns `EliteList.toCsv` writes for `rows`. */
export const columnCount = (rows: ReadonlyArray<EliteList.EliteRow>): number =>
  EliteList.COLUMNS.length +
  new Set(rows.flatMap((r) => [...r.extra.keys()]).filter((name) => !EliteList.COLUMNS.includes(name))).size

/**
 * Reads every CustProfile item and returns the invite list. Each page is sifted as it arrives, so only
 * the Elite customers' items are held, whatever the table's size; the list is then ordered once, by
 * `EliteSince` (see `EliteList.fromItems`).
 */
export const run = Effect.fn("EliteExport.run")(function*(options: Options = {}) {
  const tables = yield* Tables
  const kept: Array<Scan.Item> = []
  const skipped: Array<EliteList.Skipped> = []
  let scanned = 0
  yield* Scan.forEachPage(tables.profiles, (items) =>
    Effect.gen(function*() {
      const page = EliteList.fromItems(items, { since: options.since })
      const elite = new Set(page.rows.map((r) => r.custId))
      kept.push(...items.filter((item) => elite.has(custIdOf(item))))
      skipped.push(...page.skipped)
      scanned += items.length
      if (options.onPage !== undefined) yield* options.onPage(items.length)
    }), { segments: options.segments })
  const list = EliteList.fromItems(kept, { since: options.since })
  return {
    csv: EliteList.toCsv(list.rows, { raw: options.raw }),
    rows: list.rows,
    skipped: [...skipped, ...list.skipped].sort(byCustId),
    columns: columnCount(list.rows),
    scanned,
    neutralised: options.raw === true ? 0 : EliteList.neutralisedCells(list.rows)
  } satisfies Export
})
