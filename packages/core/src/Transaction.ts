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
 * A customer id (`CustID`): a non-empty string.
 *
 * @since 0.1.0
 * @category schemas
 */
export const CustomerId = Schema.String.check(Schema.isNonEmpty({ message: "must be a non-empty string" })).pipe(
  Schema.brand("CustomerId")
)

/**
 * @since 0.1.0
 * @category models
 */
export type CustomerId = typeof CustomerId.Type

const integerPattern = /^-?\d+$/

/**
 * A DynamoDB `N` holding an integer, kept as canonical decimal text: ids and sequence numbers may pass
 * 2^53, and they are only ever compared, never added.
 *
 * @since 0.1.0
 * @category schemas
 */
export const IntegerText = Schema.String.check(Schema.isPattern(integerPattern, { message: "must be an integer" })).pipe(
  Schema.decodeTo(
    Schema.String,
    SchemaTransformation.transform({ decode: (s) => BigInt(s).toString(), encode: (s) => s })
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
export const fromRow = (item: unknown): Result.Result<Transaction, Issue.Problem> =>
  decodeItem(item, { errors: "all" }).pipe(
    Result.map((i): Transaction => ({ custId: i.CustID.S, tnNum: i.TnNum?.N, tnValue: i.TnValue.N, sequenceNumber: undefined })),
    Result.mapError((error) => Issue.first(error.issue))
  )
