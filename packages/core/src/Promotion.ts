/**
 * A customer's promotion to Elite: the moment a transaction takes their total across the threshold.
 * It is recorded once, as an `EliteQualified` event written in the same atomic step as the profile
 * change that carries it, so a redelivery can neither repeat nor lose it.
 *
 * @since 0.1.0
 */
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import * as Elite from "./Elite.js"
import * as Issue from "./Issue.js"
import { CustomerId, DollarsFromText, IntegerText, type Transaction } from "./Transaction.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface Promotion {
  readonly custId: CustomerId
  /** The total right after the transaction that crossed the line. */
  readonly totalTnValue: number
  /** The transaction that crossed the line; `tnNum` is absent only for hand-made events. */
  readonly tnNum: string | undefined
  readonly sequenceNumber: string | undefined
  /** When it was counted, ISO-8601 UTC: also the profile's `EliteSince`. */
  readonly qualifiedAt: string
  /** The profile version the promotion wrote: with `custId`, the event's key. */
  readonly profileVersion: number
}

/**
 * The promotion in counting `transactions` in order on top of `startTotal`, if one of them takes the
 * running total from below the threshold to at or above it.
 *
 * @since 0.1.0
 * @category rules
 */
export const find = (
  startTotal: number,
  transactions: ReadonlyArray<Transaction>,
  at: { readonly qualifiedAt: string; readonly profileVersion: number }
): Promotion | undefined => {
  if (Elite.statusFor(startTotal) === "Elite") return undefined
  let total = startTotal
  for (const tx of transactions) {
    total += tx.tnValue
    if (Elite.statusFor(total) === "Elite") {
      return { custId: tx.custId, totalTnValue: total, tnNum: tx.tnNum, sequenceNumber: tx.sequenceNumber, ...at }
    }
  }
  return undefined
}

/**
 * The event type written for every promotion.
 *
 * @since 0.1.0
 * @category constants
 */
export const EVENT_TYPE = "EliteQualified"

/**
 * A CustEliteEvents item as DynamoDB holds it: keyed by customer and the profile version that
 * promoted them.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Item = Schema.Struct({
  CustID: Schema.Struct({ S: CustomerId }),
  ProfileVersion: Schema.Struct({ N: IntegerText }),
  EventType: Schema.Struct({ S: Schema.Literal(EVENT_TYPE) }),
  TotalTnValue: Schema.Struct({ N: DollarsFromText }),
  TnNum: Schema.optional(Schema.Struct({ N: IntegerText })),
  SequenceNumber: Schema.optional(Schema.Struct({ S: Schema.String })),
  QualifiedAt: Schema.Struct({ S: Schema.String })
})

/**
 * The item to put for a promotion.
 *
 * @since 0.1.0
 * @category encoding
 */
export const toItem = (p: Promotion): Record<string, { readonly S: string } | { readonly N: string }> => ({
  CustID: { S: p.custId },
  ProfileVersion: { N: String(p.profileVersion) },
  EventType: { S: EVENT_TYPE },
  TotalTnValue: { N: String(p.totalTnValue) },
  ...(p.tnNum === undefined ? {} : { TnNum: { N: p.tnNum } }),
  ...(p.sequenceNumber === undefined ? {} : { SequenceNumber: { S: p.sequenceNumber } }),
  QualifiedAt: { S: p.qualifiedAt }
})

const decodeItem = Schema.decodeUnknownResult(Item)

/**
 * Reads a CustEliteEvents item; a malformed one names its first bad field.
 *
 * @since 0.1.0
 * @category decoding
 */
export const fromItem = (item: unknown): Result.Result<Promotion, string> =>
  decodeItem(item, { errors: "all" }).pipe(
    Result.map((i): Promotion => ({
      custId: i.CustID.S,
      totalTnValue: i.TotalTnValue.N,
      tnNum: i.TnNum?.N,
      sequenceNumber: i.SequenceNumber?.S,
      qualifiedAt: i.QualifiedAt.S,
      profileVersion: Number(i.ProfileVersion.N)
    })),
    Result.mapError((error) => {
      const first = Issue.first(error.issue)
      return `${first.field} ${first.message}`
    })
  )
