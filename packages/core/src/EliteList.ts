/**
 * The marketing invite list: every Elite customer in a CustProfile scan, earliest Elite first, with the
 * profile's other attributes as extra columns, as rows and as CSV.
 *
 * @since 0.1.0
 */
import { Base64 } from "effect/encoding"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import * as Csv from "./Csv.js"
import * as Elite from "./Elite.js"
import * as Issue from "./Issue.js"
import { CustomerId, DollarsFromText } from "./Transaction.js"

/**
 * One attribute value of a scanned item, as the DynamoDB client returns it: the core declares the shape
 * it reads instead of depending on the AWS SDK.
 *
 * @since 0.1.0
 * @category models
 */
export type AttributeValue =
  | { readonly S: string }
  | { readonly N: string }
  | { readonly B: Uint8Array }
  | { readonly SS: ReadonlyArray<string> }
  | { readonly NS: ReadonlyArray<string> }
  | { readonly BS: ReadonlyArray<Uint8Array> }
  | { readonly M: { readonly [name: string]: AttributeValue } }
  | { readonly L: ReadonlyArray<AttributeValue> }
  | { readonly NULL: boolean }
  | { readonly BOOL: boolean }

const AttributeValueSchema: Schema.Codec<AttributeValue> = Schema.Union([
  Schema.Struct({ S: Schema.String }),
  Schema.Struct({ N: Schema.String }),
  Schema.Struct({ B: Schema.Uint8Array }),
  Schema.Struct({ SS: Schema.Array(Schema.String) }),
  Schema.Struct({ NS: Schema.Array(Schema.String) }),
  Schema.Struct({ BS: Schema.Array(Schema.Uint8Array) }),
  Schema.Struct({ M: Schema.Record(Schema.String, Schema.suspend((): Schema.Codec<AttributeValue> => AttributeValueSchema)) }),
  Schema.Struct({ L: Schema.Array(Schema.suspend((): Schema.Codec<AttributeValue> => AttributeValueSchema)) }),
  Schema.Struct({ NULL: Schema.Boolean }),
  Schema.Struct({ BOOL: Schema.Boolean })
])

/**
 * One customer on the list. `eliteSince` is absent for customers promoted before it was recorded;
 * `extra` holds the profile's other attributes as text, by attribute name, and `numbers` names those
 * of them that are DynamoDB numbers (N), whose text is a number, never a formula.
 *
 * @since 0.1.0
 * @category models
 */
export interface EliteRow {
  readonly custId: string
  readonly totalTnValue: number
  readonly eliteSince: string | undefined
  readonly extra: ReadonlyMap<string, string>
  readonly numbers: ReadonlySet<string>
}

/**
 * A scanned item left off the list because it cannot be read: its `CustID` (empty when it has none)
 * and the attribute at fault.
 *
 * @since 0.1.0
 * @category models
 */
export interface Skipped {
  readonly custId: string
  readonly reason: string
}

/**
 * @since 0.1.0
 * @category models
 */
export interface EliteList {
  readonly rows: Array<EliteRow>
  readonly skipped: Array<Skipped>
}

/**
 * Attributes that never become extra columns: the list's own columns, `CustStatus` (the total decides),
 * and this project's bookkeeping.
 *
 * @since 0.1.0
 * @category constants
 */
export const NOT_EXTRA: ReadonlySet<string> = new Set([
  "CustID",
  "TotalTnValue",
  "CustStatus",
  "EliteSince",
  "AppliedTn",
  "ProfileVersion"
])

// A missing total reads as 0, as in Profile.fromItem: such a customer is not Elite.
const Head = Schema.Struct({
  CustID: Schema.Struct({ S: CustomerId }),
  TotalTnValue: Schema.optional(Schema.Struct({ N: DollarsFromText }))
})

// Date.parse alone takes "March 7, 2024", zone-less local times and 2024-02-30 (as 1 March): an
// EliteSince is only ordered when it names one instant.
const timestampPattern =
  /^(\d{4})-(\d{2})-(\d{2})T(?:[01]\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d+)?)?(?:Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)$/

const instantOf = (text: string): number | undefined => {
  const m = timestampPattern.exec(text)
  if (m === null) return undefined
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])]
  const date = new Date(Date.UTC(year, month - 1, day))
  if (date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return undefined
  const ms = Date.parse(text)
  return Number.isNaN(ms) ? undefined : ms
}

const Timestamp = Schema.String.check(
  Schema.makeFilter((s: string) => instantOf(s) !== undefined || "must be an ISO-8601 timestamp with a time zone")
)

const Since = Schema.Struct({ EliteSince: Schema.optional(Schema.Struct({ S: Timestamp })) })

const decodeHead = Schema.decodeUnknownResult(Head)
const decodeSince = Schema.decodeUnknownResult(Since)
const decodeAttribute = Schema.decodeUnknownResult(AttributeValueSchema)

const reasonOf = (error: Schema.SchemaError): string => {
  const first = Issue.first(error.issue)
  return `${first.field} ${first.message}`
}

const custIdOf = (item: Record<string, unknown>): string => {
  const id = item["CustID"]
  return typeof id === "object" && id !== null && "S" in id && typeof id.S === "string" ? id.S : ""
}

// Plain code-unit order: the same on every machine, whatever its locale.
const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

const jsonNumber = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/

// An N goes into JSON as its own digits (a double would round past 2^53); text JSON cannot hold stays a string.
const jsonOfNumber = (n: string): string => (jsonNumber.test(n) ? n : JSON.stringify(n))

const jsonOfBytes = (b: Uint8Array): string => JSON.stringify(Base64.encode(b))

// Compact JSON of a value's plain form; M's keys are sorted so two scans of one item write the same text.
const json = (v: AttributeValue): string => {
  if ("S" in v) return JSON.stringify(v.S)
  if ("N" in v) return jsonOfNumber(v.N)
  if ("BOOL" in v) return String(v.BOOL)
  if ("NULL" in v) return "null"
  if ("B" in v) return jsonOfBytes(v.B)
  if ("SS" in v) return `[${v.SS.map((s) => JSON.stringify(s)).join(",")}]`
  if ("NS" in v) return `[${v.NS.map(jsonOfNumber).join(",")}]`
  if ("BS" in v) return `[${v.BS.map(jsonOfBytes).join(",")}]`
  if ("L" in v) return `[${v.L.map(json).join(",")}]`
  const members = Object.entries(v.M).sort(([a], [b]) => compareText(a, b))
  return `{${members.map(([k, m]) => `${JSON.stringify(k)}:${json(m)}`).join(",")}}`
}

/**
 * An attribute value as one cell: S as is, N as its number text, BOOL as `true`/`false`, NULL as empty,
 * B as base64, SS/NS/BS as their members joined by `;` (in the order DynamoDB returned them; a `;`
 * inside a member is not escaped), L and M as compact JSON of their plain form: S, B (base64), SS and BS
 * as strings, N and NS as numbers with all their digits, NULL as `null`, M's keys sorted.
 *
 * @since 0.1.0
 * @category formatting
 */
export const text = (v: AttributeValue): string => {
  if ("S" in v) return v.S
  if ("N" in v) return v.N
  if ("BOOL" in v) return String(v.BOOL)
  if ("NULL" in v) return ""
  if ("B" in v) return Base64.encode(v.B)
  if ("SS" in v) return v.SS.join(";")
  if ("NS" in v) return v.NS.join(";")
  if ("BS" in v) return v.BS.map((b) => Base64.encode(b)).join(";")
  return json(v)
}

interface Candidate {
  readonly row: EliteRow
  readonly since: number | undefined
}

interface Extra {
  readonly extra: ReadonlyMap<string, string>
  readonly numbers: ReadonlySet<string>
}

const extraOf = (item: Record<string, unknown>): Result.Result<Extra, string> => {
  const cells: Array<readonly [string, string]> = []
  const numbers = new Set<string>()
  for (const [name, value] of Object.entries(item)) {
    if (NOT_EXTRA.has(name)) continue
    const decoded = decodeAttribute(value)
    if (Result.isFailure(decoded)) return Result.fail(`${name} is not a DynamoDB attribute value`)
    cells.push([name, text(decoded.success)])
    if ("N" in decoded.success) numbers.add(name)
  }
  return Result.succeed({ extra: new Map(cells.sort(([a], [b]) => compareText(a, b))), numbers })
}

const read = (
  item: Record<string, unknown>,
  since: number | undefined
): Result.Result<Candidate | undefined, Skipped> => {
  const head = decodeHead(item, { errors: "all" })
  if (Result.isFailure(head)) return Result.fail({ custId: custIdOf(item), reason: reasonOf(head.failure) })
  const custId = head.success.CustID.S
  const totalTnValue = head.success.TotalTnValue?.N ?? 0
  if (Elite.statusFor(totalTnValue) !== "Elite") return Result.succeed(undefined)
  const when = decodeSince(item)
  if (Result.isFailure(when)) return Result.fail({ custId, reason: reasonOf(when.failure) })
  const eliteSince = when.success.EliteSince?.S
  const instant = eliteSince === undefined ? undefined : instantOf(eliteSince)
  // Comparisons with NaN are false, so an invalid `since` keeps no one.
  if (since !== undefined && !(instant !== undefined && instant >= since)) return Result.succeed(undefined)
  const extra = extraOf(item)
  if (Result.isFailure(extra)) return Result.fail({ custId, reason: extra.failure })
  return Result.succeed({ row: { custId, totalTnValue, eliteSince, ...extra.success }, since: instant })
}

// Customers without an EliteSince were Elite before it was recorded: they come first.
const compareCandidates = (a: Candidate, b: Candidate): number => {
  if (a.since !== b.since) {
    if (a.since === undefined) return -1
    if (b.since === undefined) return 1
    return a.since - b.since
  }
  return compareText(a.row.custId, b.row.custId)
}

/**
 * The list from scanned CustProfile items. A customer is on it when their `TotalTnValue` makes them
 * Elite ({@link Elite.statusFor}); the stored `CustStatus` is not consulted, so an item whose status
 * disagrees with its total is listed (or left off) by its total. A missing total counts as 0.
 *
 * With `since`, only customers whose `EliteSince` is at or after it are kept (those without one are
 * left off). Rows are ordered by `EliteSince` as an instant, customers without one first, ties by
 * `CustID`. An item that cannot be read (no `CustID.S`, a `TotalTnValue` that is not a whole number,
 * an Elite item's `EliteSince` that is not an ISO-8601 timestamp with a zone, or an attribute that is
 * not a DynamoDB attribute value) is never thrown on: it goes to `skipped`, with a reason naming the
 * attribute.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromItems = (
  items: ReadonlyArray<Record<string, unknown>>,
  options?: { readonly since?: Date | undefined }
): EliteList => {
  const since = options?.since?.getTime()
  const candidates: Array<Candidate> = []
  const skipped: Array<Skipped> = []
  for (const item of items) {
    const result = read(item, since)
    if (Result.isFailure(result)) skipped.push(result.failure)
    else if (result.success !== undefined) candidates.push(result.success)
  }
  return { rows: candidates.sort(compareCandidates).map((c) => c.row), skipped }
}

/**
 * The fixed columns, before the extra ones.
 *
 * @since 0.1.0
 * @category constants
 */
export const COLUMNS: ReadonlyArray<string> = ["CustID", "TotalTnValue", "EliteSince"]

const table = (rows: ReadonlyArray<EliteRow>, raw: boolean): ReadonlyArray<ReadonlyArray<string>> => {
  const extras = [...new Set(rows.flatMap((r) => [...r.extra.keys()]))]
    .filter((name) => !COLUMNS.includes(name))
    .sort(compareText)
  const cell = raw ? (value: string) => value : (value: string, numeric?: boolean) => Csv.neutralise(value, { numeric })
  return [
    [...COLUMNS, ...extras].map((name) => cell(name)),
    ...rows.map((r) => [
      cell(r.custId),
      cell(String(r.totalTnValue), true),
      cell(r.eliteSince ?? ""),
      ...extras.map((name) => cell(r.extra.get(name) ?? "", r.numbers.has(name)))
    ])
  ]
}

/**
 * The list as CSV (see {@link Csv.encode}): `CustID,TotalTnValue,EliteSince`, then every extra
 * attribute any row has, in code-unit order of their names (so `Zip` before `email`); a row without one
 * has an empty cell, as does a row without `EliteSince`. Rows keep their order.
 *
 * The file is meant for a spreadsheet, so by default every cell, header included, that a spreadsheet
 * would run as a formula gets a leading `'` ({@link Csv.neutralise}), except numbers: `TotalTnValue`
 * and extra attributes that are DynamoDB numbers (N) stay exact when they read as a number (`-5`). With
 * `raw`, every cell is written exactly as stored.
 *
 * @since 0.1.0
 * @category encoding
 */
export const toCsv = (rows: ReadonlyArray<EliteRow>, options?: { readonly raw?: boolean | undefined }): string => {
  const [header = [], ...body] = table(rows, options?.raw === true)
  return Csv.encode(header, body)
}

/**
 * How many cells, header included, {@link toCsv} writes with a leading `'` by default: what an export
 * tells its user changed.
 *
 * @since 0.1.0
 * @category encoding
 */
export const neutralisedCells = (rows: ReadonlyArray<EliteRow>): number => {
  const raw = table(rows, true)
  return table(rows, false).reduce((n, cells, r) => n + cells.filter((cell, c) => cell !== raw[r]?.[c]).length, 0)
}
