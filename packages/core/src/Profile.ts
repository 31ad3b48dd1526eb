/**
 * One CustProfile row: the total, the status, and the log of transactions already counted in it.
 *
 * @since 0.1.0
 */
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import * as AppliedLog from "./AppliedLog.js"
import * as AppliedPages from "./AppliedPages.js"
import * as Issue from "./Issue.js"
import { CustomerId, DollarsFromText } from "./Transaction.js"

/**
 * @since 0.1.0
 * @category schemas
 */
export const Status = Schema.Literals(["Normal", "Elite"])

/**
 * @since 0.1.0
 * @category models
 */
export type Status = typeof Status.Type

/**
 * A profile as our code sees it. `version` is absent on rows this project never wrote (the Jam's own
 * CustProfile items), which is what the next conditional write checks for.
 *
 * @since 0.1.0
 * @category models
 */
export interface Profile {
  readonly custId: CustomerId
  readonly totalTnValue: number
  readonly custStatus: Status
  readonly applied: AppliedLog.AppliedLog
  /** Where older ids of the log went once it grew past a kilobyte (see `AppliedPages`); empty for most customers. */
  readonly pages: ReadonlyArray<AppliedPages.Segment>
  readonly version: number | undefined
  /** When the customer became Elite (ISO-8601 UTC); absent for Normal customers and for those promoted before it was recorded. */
  readonly eliteSince: string | undefined
}

const Count = Schema.String.check(Schema.isPattern(/^\d+$/, { message: "must be a whole number" }))

/**
 * The applied log as we write it (`S`, see `AppliedLog.encode`), or as earlier builds wrote it (`M`, a
 * number per key), read until the profile's next write replaces it.
 */
const AppliedTn = Schema.Union([
  Schema.Struct({ S: Schema.String }),
  Schema.Struct({ M: Schema.Record(Schema.String, Schema.Struct({ N: Count })) })
])

const appliedOf = (attribute: typeof AppliedTn.Type | undefined): Result.Result<AppliedLog.AppliedLog, Issue.Problem> =>
  attribute === undefined
    ? Result.succeed(AppliedLog.empty)
    : "S" in attribute
    ? Result.mapError(AppliedLog.decode(attribute.S), (message) => ({ field: "AppliedTn.S", message }))
    : Result.succeed(AppliedLog.fromEntries(Object.entries(attribute.M).map(([k, v]) => [k, Number(v.N)])))

/**
 * The attributes of a CustProfile item that this project reads, as DynamoDB returns them. Any other
 * attribute (names, emails, …) is left alone.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Item = Schema.Struct({
  CustID: Schema.Struct({ S: CustomerId }),
  TotalTnValue: Schema.optional(Schema.Struct({ N: DollarsFromText })),
  CustStatus: Schema.optional(Schema.Struct({ S: Schema.String })),
  AppliedTn: Schema.optional(AppliedTn),
  AppliedPages: Schema.optional(Schema.Struct({ L: Schema.Array(AppliedPages.SegmentItem) })),
  ProfileVersion: Schema.optional(Schema.Struct({ N: Count })),
  EliteSince: Schema.optional(Schema.Struct({ S: Schema.String }))
})

/**
 * A CustProfile item that cannot be read as a profile: the customer and the attribute at fault.
 *
 * @since 0.1.0
 * @category errors
 */
export class UnreadableProfile extends Schema.TaggedError<UnreadableProfile>()("UnreadableProfile", {
  custId: Schema.String,
  field: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `CustProfile item ${this.custId} is unreadable: ${this.field} ${this.reason}`
  }
}

const decodeItem = Schema.decodeUnknownResult(Item)

/**
 * Reads a CustProfile item. A missing total counts as 0; a missing or stale status is recomputed on the
 * next write, never trusted.
 *
 * @since 0.1.0
 * @category decoding
 */
export const fromItem = (custId: string, item: unknown): Result.Result<Profile, UnreadableProfile> =>
  decodeItem(item, { errors: "all" }).pipe(
    Result.mapError((error) => Issue.first(error.issue)),
    Result.flatMap((i) =>
      Result.map(appliedOf(i.AppliedTn), (applied): Profile => ({
        custId: i.CustID.S,
        totalTnValue: i.TotalTnValue?.N ?? 0,
        custStatus: i.CustStatus?.S === "Elite" ? "Elite" : "Normal",
        applied,
        pages: (i.AppliedPages?.L ?? []).map(AppliedPages.fromSegmentItem),
        version: i.ProfileVersion === undefined ? undefined : Number(i.ProfileVersion.N),
        eliteSince: i.EliteSince?.S
      }))
    ),
    Result.mapError((problem) => new UnreadableProfile({ custId, field: problem.field, reason: problem.message }))
  )

/**
 * The profile of a customer seen for the first time.
 *
 * @since 0.1.0
 * @category constructors
 */
export const empty = (custId: CustomerId): Profile => ({
  custId,
  totalTnValue: 0,
  custStatus: "Normal",
  applied: AppliedLog.empty,
  pages: [],
  version: undefined,
  eliteSince: undefined
})
