/**
 * One CustProfile row: the total, the status, and the log of transactions already counted in it.
 *
 * @since 0.1.0
 */
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import * as AppliedIds from "./AppliedIds.js"
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
  // Per second counted, that second's ids as `AppliedIds` text; an id → second entry (`N`) is how logs were first written.
  AppliedTn: Schema.optional(Schema.Struct({
    M: Schema.Record(Schema.String, Schema.Union([Schema.Struct({ N: Count }), Schema.Struct({ S: Schema.String })]))
  })),
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
    Result.mapError((error) => {
      const first = Issue.first(error.issue)
      return new UnreadableProfile({ custId, field: first.field, reason: first.message })
    }),
    Result.flatMap((i) => Result.map(appliedOf(custId, i.AppliedTn?.M ?? {}), (applied) => ({ i, applied }))),
    Result.map(({ i, applied }): Profile => ({
      custId: i.CustID.S,
      totalTnValue: i.TotalTnValue?.N ?? 0,
      custStatus: i.CustStatus?.S === "Elite" ? "Elite" : "Normal",
      applied,
      pages: (i.AppliedPages?.L ?? []).map(AppliedPages.fromSegmentItem),
      version: i.ProfileVersion === undefined ? undefined : Number(i.ProfileVersion.N),
      eliteSince: i.EliteSince?.S
    }))
  )

/** The log from its stored entries: a second's ids as text, or (as first written) one id and its second. */
const appliedOf = (
  custId: string,
  entries: Readonly<Record<string, { readonly N: string } | { readonly S: string }>>
): Result.Result<AppliedLog.AppliedLog, UnreadableProfile> => {
  const log = new Map<string, number>()
  const keep = (id: string, at: number) => log.set(id, Math.max(at, log.get(id) ?? at))
  for (const [key, value] of Object.entries(entries)) {
    if ("N" in value) keep(key, Number(value.N))
    else {
      const at = Number(key)
      const ids = AppliedIds.decode(value.S)
      if (!/^\d+$/.test(key) || Result.isFailure(ids)) {
        const reason = Result.isFailure(ids) ? ids.failure : "must be keyed by a whole number of seconds"
        return Result.fail(new UnreadableProfile({ custId, field: `AppliedTn.${key}`, reason }))
      }
      for (const id of ids.success) keep(id, at)
    }
  }
  return Result.succeed(log)
}

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
