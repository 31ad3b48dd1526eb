/**
 * One purchase as our code sees it: who bought, for how much, and the id that makes it countable once.
 *
 * @since 0.1.0
 */
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import * as SchemaTransformation from "effect/SchemaTransformation"
import * as Issue from "./Issue.js"

/**
 * DynamoDB's limit on a partition key value, in UTF-8 bytes. `CustID` keys CustTransactions and
 * CustProfile: a longer one can be neither read nor written, so it is malformed, not retried.
 *
 * @since 0.1.0
 * @category constants
 */
export const MAX_KEY_BYTES = 2048

/** Whether `s` takes at most `max` bytes in UTF-8 (counted here: the core runs anywhere, without TextEncoder). */
const fitsUtf8 = (s: string, max: number): boolean => {
  // A UTF-16 unit takes at most 3 bytes: most ids are settled without walking them.
  if (s.length * 3 <= max) return true
  let bytes = 0
  for (const ch of s) {
    const code = ch.codePointAt(0) ?? 0
    bytes += code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4
    if (bytes > max) return false
  }
  return true
}

/**
 * A customer id (`CustID`): a non-empty string of at most {@link MAX_KEY_BYTES} bytes.
 *
 * @since 0.1.0
 * @category schemas
 */
export const CustomerId = Schema.String.check(
  Schema.isNonEmpty({ message: "must be a non-empty string" }),
  Schema.makeFilter((s: string) => fitsUtf8(s, MAX_KEY_BYTES), {
    message: `must be at most ${MAX_KEY_BYTES} bytes, DynamoDB's limit for a key`
  })
).pipe(Schema.brand("CustomerId"))

/**
 * @since 0.1.0
 * @category models
 */
export type CustomerId = typeof CustomerId.Type

const integerPattern = /^-?\d+$/

/** Integer text that is already how BigInt writes it: no leading zeros, no "-0". */
const canonicalInteger = /^(?:0|-?[1-9]\d*)$/

/** Whether an integer's text fits a DynamoDB number: at most 38 significant digits, below 10^126. */
const fitsDynamoNumber = (s: string): boolean => {
  if (s.length <= 38) return true
  const digits = s.replace(/^-?0*/, "")
  return digits.length <= 126 && digits.replace(/0+$/, "").length <= 38
}

/**
 * A DynamoDB `N` holding an integer, kept as canonical decimal text: ids and sequence numbers may pass
 * 2^53, and they are only ever compared, never added. Longer text than a DynamoDB number holds is
 * refused: no table could have sent it, and it would not fit a profile's applied log.
 *
 * @since 0.1.0
 * @category schemas
 */
export const IntegerText = Schema.String.check(
  Schema.isPattern(integerPattern, { message: "must be an integer" }),
  Schema.makeFilter(fitsDynamoNumber, { message: "must have at most 38 significant digits, as a DynamoDB number" })
).pipe(
  Schema.decodeTo(
    Schema.String,
    SchemaTransformation.transform({ decode: (s) => (canonicalInteger.test(s) ? s : BigInt(s).toString()), encode: (s) => s })
  )
)

/**
 * Whole dollars as a DynamoDB `N`: an integer from 0 up to `Number.MAX_SAFE_INTEGER`, so sums stay exact.
 *
 * @since 0.1.0
 * @category schemas
 */
export const DollarsFromText = Schema.String.check(
  Schema.isPattern(integerPattern, { message: "must be a whole number of dollars" })
).pipe(
  Schema.decodeTo(
    Schema.Number.check(
      Schema.isGreaterThanOrEqualTo(0, { message: "must not be negative" }),
      Schema.isLessThanOrEqualTo(Number.MAX_SAFE_INTEGER, { message: "is too large to add exactly (over 2^53 - 1)" })
    ),
    SchemaTransformation.transform({ decode: (s) => Number(s), encode: (n) => String(n) })
  )
)

/**
 * A CustTransactions item as DynamoDB holds it (and a stream image carries it). `TnNum` is optional
 * because the Jam's acceptance event has none.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Item = Schema.Struct({
  CustID: Schema.Struct({ S: CustomerId }),
  TnValue: Schema.Struct({ N: DollarsFromText }),
  TnNum: Schema.optional(Schema.Struct({ N: IntegerText }))
})

/**
 * One purchase. `tnNum` is absent only for events that never carried one (the Jam's acceptance event);
 * `sequenceNumber` is absent for hand-made events.
 *
 * @since 0.1.0
 * @category models
 */
export interface Transaction {
  readonly custId: CustomerId
  readonly tnNum: string | undefined
  readonly tnValue: number
  readonly sequenceNumber: string | undefined
}

/**
 * The key a transaction is counted under, once per customer: its `TnNum`, else its stream sequence
 * number (a redelivered record keeps it), else `undefined` when nothing can tell a repeat apart.
 *
 * @since 0.1.0
 * @category guards
 */
export const guardKey = (tx: Transaction): string | undefined =>
  tx.tnNum ?? (tx.sequenceNumber === undefined ? undefined : `seq:${tx.sequenceNumber}`)

const decodeItem = Schema.decodeUnknownResult(Item)

/**
 * Reads a CustTransactions row (from a Scan or a Query) as a transaction, or names the first field at
 * fault. A row has no stream sequence number: its `TnNum` is its key.
 *
 * @since 0.1.0
 * @category decoding
 */
export const fromRow = (item: unknown): Result.Result<Transaction, Issue.Problem> => {
  // Stopping at the first issue is half the work on the rows that are fine (nearly all, and a backfill
  // reads every row); a row at fault is decoded again with every issue, so it is named as ever.
  const quick = decodeItem(item)
  if (Result.isSuccess(quick)) return Result.succeed(fromDecoded(quick.success))
  return decodeItem(item, { errors: "all" }).pipe(
    Result.map(fromDecoded),
    Result.mapError((error) => Issue.first(error.issue))
  )
}

/**
 * Reads rows (a customer's, from a Scan or a Query) as transactions, or names the first row that
 * cannot be counted and its field at fault: a backfill reads every row of the table through it, with
 * no Effect per row.
 *
 * @since 0.1.0
 * @category decoding
 */
export const fromRows = <A>(items: ReadonlyArray<A>): Result.Result<Array<Transaction>, { readonly item: A; readonly problem: Issue.Problem }> => {
  const out: Array<Transaction> = []
  for (const item of items) {
    const tx = fromRow(item)
    if (Result.isFailure(tx)) return Result.fail({ item, problem: tx.failure })
    out.push(tx.success)
  }
  return Result.succeed(out)
}

const fromDecoded = (i: typeof Item.Type): Transaction => ({
  custId: i.CustID.S,
  tnNum: i.TnNum?.N,
  tnValue: i.TnValue.N,
  sequenceNumber: undefined
})
