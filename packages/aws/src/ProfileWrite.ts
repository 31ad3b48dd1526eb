/**
 * The exactly-once write of one CustProfile: new pages first, then one conditional write on
 * `ProfileVersion` (with the EliteQualified event, in one transaction, when it promotes), settled by
 * reading and writing again while another writer wins the race or a key is found taken.
 */
import { PutItemCommand, type TransactWriteItem, TransactWriteItemsCommand, UpdateItemCommand } from "@aws-sdk/client-dynamodb"
import * as AppliedLog from "@dyna/core/AppliedLog"
import * as AppliedPages from "@dyna/core/AppliedPages"
import type * as Profile from "@dyna/core/Profile"
import * as ProfileUpdate from "@dyna/core/ProfileUpdate"
import * as Promotion from "@dyna/core/Promotion"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as Cancellation from "./Cancellation.js"
import { capacityUnits, DynamoDb, type DynamoDbError, isItemTooLarge } from "./DynamoDb.js"
import type * as ProfileReads from "./ProfileReads.js"
import * as Retry from "./Retry.js"
import { Tables } from "./Tables.js"

/** Other writers kept changing the profile between our read and our write, past `Retry.lostRace`. */
export class LostRace extends Schema.TaggedError<LostRace>()("LostRace", {
  custId: Schema.String,
  /** How many of our conditional writes lost, over every attempt (the invocation's metrics count them). */
  racesLost: Schema.optional(Schema.Number)
}) {
  override get message() {
    return `CustProfile ${this.custId} kept changing under concurrent writers; will be delivered again`
  }
}

/**
 * The profile would pass DynamoDB's 400 KB item limit. Its applied log cannot make it so (past 600 bytes
 * the log moves to pages); only attributes of its own could, on a profile someone else wrote.
 */
export class ProfileTooLarge extends Schema.TaggedError<ProfileTooLarge>()("ProfileTooLarge", {
  custId: Schema.String,
  loggedIds: Schema.Number
}) {
  override get message() {
    return `CustProfile ${this.custId} would pass DynamoDB's 400 KB item limit with ${this.loggedIds} transaction ids in its applied log`
  }
}

/**
 * A key in CustEliteEvents was taken by something this profile does not know: an EliteQualified event
 * of an earlier life of the profile (deleted or restored since), or a page put by a writer that lost its
 * race. Never a lost race: the next attempt steps over the key (`ProfileUpdate.Avoid`).
 */
export class KeyTaken extends Schema.TaggedError<KeyTaken>()("KeyTaken", {
  custId: Schema.String,
  what: Schema.Literals(["event", "page"]),
  key: Schema.String
}) {
  override get message() {
    return `CustEliteEvents ${this.custId}/${this.key} already holds an ${this.what === "event" ? "EliteQualified event" : "applied page"}`
  }
}

/** What an update's writes came to, for the invocation's metrics. */
export interface Writes {
  /** Profile writes that took: an UpdateItem, or a TransactWriteItems with a promotion (0 or 1). */
  readonly profileWrites: number
  /** Conditional profile writes that lost to another writer, each followed by a fresh read and another try. */
  readonly racesLost: number
  /**
   * The write units DynamoDB reported for the writes that took, the applied log's pages included (a
   * refused conditional write reports none).
   */
  readonly writeUnits: number
}

/** A profile update as it was written: the core's update, and what writing it took. */
export interface Applied extends ProfileUpdate.ProfileUpdate {
  readonly writes: Writes
}

/** Why a customer's update was not written: the batch reports that customer's records as failed, for Lambda to retry. */
export type ApplyError = DynamoDbError | LostRace | ProfileTooLarge | Profile.UnreadableProfile

/**
 * Where `settle`'s first attempt starts: with its update decided already (on a profile read ahead), or
 * after a shared transaction's cancellation, with the race it lost or the event key it found taken.
 */
export interface Start {
  readonly decided?: ProfileUpdate.ProfileUpdate | undefined
  readonly racesLost?: number | undefined
  readonly avoid?: ProfileUpdate.Avoid | undefined
}

/** What a write is, decided on the profile as read (`undefined`: none yet), stepping over the keys to `avoid`. */
export type Decide<E, R> = (
  current: Profile.Profile | undefined,
  nowSeconds: number,
  context: { readonly avoid: ProfileUpdate.Avoid }
) => Effect.Effect<ProfileUpdate.ProfileUpdate, E, R>

/** The promotion's EliteQualified event key was found taken: what a cancellation naming only the event means. */
export const eventTaken = (promotion: Promotion.Promotion) =>
  new KeyTaken({ custId: promotion.custId, what: "event", key: String(promotion.profileVersion) })

const maxText = (a: string | undefined, b: string) => (a === undefined || BigInt(b) > BigInt(a) ? b : a)

/** What the next decision must avoid once `taken` was found taken: its event version, or its page's run. */
export const stepOver = (avoid: ProfileUpdate.Avoid, taken: KeyTaken): ProfileUpdate.Avoid =>
  taken.what === "event"
    ? { ...avoid, version: Math.max(avoid.version ?? 0, Number(taken.key)) }
    : { ...avoid, base: maxText(avoid.base, AppliedPages.baseOf(taken.key)) }

/** The conditional write as `ProfileStore` and `Recount` build on it: pages, a promotion's transaction items, `settle`. */
export interface ProfileWrite {
  /** Puts an update's new pages (before the write that refers to them), and says the write units they took. */
  readonly putPages: (update: ProfileUpdate.ProfileUpdate) => Effect.Effect<number, DynamoDbError | KeyTaken>
  /**
   * A promotion's two items of a TransactWriteItems: the profile update, conditioned on the version
   * `update` read, and its EliteQualified event, conditioned on its key being free.
   */
  readonly promotionItems: (update: ProfileUpdate.ProfileUpdate, promotion: Promotion.Promotion) => Array<TransactWriteItem>
  /** One TransactWriteItems of promotions' items, once (retries are the caller's), and the write units it took. */
  readonly transact: (items: ReadonlyArray<TransactWriteItem>) => Effect.Effect<number, DynamoDbError>
  /**
   * Reads (the first time from `first`, when given), decides with `decide`, writes conditionally; a
   * lost race reads again, on `Retry.lostRace`, and a key found taken is stepped over the same way.
   * `start.decided` is the first attempt's update, decided by the caller on what it read (then no
   * `first`: the next attempt reads afresh).
   */
  readonly settle: <E, R>(
    custId: string,
    decide: Decide<E, R>,
    first?: ProfileReads.Read,
    start?: Start
  ) => Effect.Effect<Applied, E | ApplyError, R>
}

/** The write over the given client and tables, reading the profile again with `reads` after a lost race. */
export const make = (reads: ProfileReads.ProfileReads) =>
  Effect.gen(function*() {
    const db = yield* DynamoDb
    const tables = yield* Tables

    /** Puts a page where nothing is yet: pages are never rewritten, so what a profile names stays what it named. */
    const putPage = (page: AppliedPages.Page) =>
      Retry.onTransient(db.call("PutItem", (c) =>
        c.send(
          new PutItemCommand({
            TableName: tables.events,
            Item: AppliedPages.toPageItem(page),
            ConditionExpression: "attribute_not_exists(ProfileVersion)",
            ReturnConsumedCapacity: "TOTAL"
          })
        ))).pipe(
          Effect.map((out) => capacityUnits(out.ConsumedCapacity)),
          Effect.catchTag("DynamoDbError", (e): Effect.Effect<number, DynamoDbError | KeyTaken> =>
            e.kind === "ConditionFailed" ? Effect.fail(new KeyTaken({ custId: page.custId, what: "page", key: page.key })) : Effect.fail(e))
        )

    const putPages = (update: ProfileUpdate.ProfileUpdate) =>
      Effect.forEach(update.pages, putPage, { concurrency: 4 }).pipe(Effect.map((units) => units.reduce((sum, u) => sum + u, 0)))

    /** The conditional UpdateItem (or transaction item) that moves the profile from `previous` to `next`. */
    const profileUpdateOf = ({ next, previous }: ProfileUpdate.ProfileUpdate) => {
      // AppliedPages is named only when there are pages, or were: most customers never have any.
      const set = [
        "TotalTnValue = :total",
        "CustStatus = :status",
        "AppliedTn = :applied",
        "ProfileVersion = :next",
        ...(next.eliteSince === undefined ? [] : ["EliteSince = :since"]),
        ...(next.pages.length === 0 ? [] : ["AppliedPages = :pages"])
      ]
      const remove = [
        ...(next.eliteSince === undefined && previous.eliteSince !== undefined ? ["EliteSince"] : []),
        ...(next.pages.length === 0 && previous.pages.length > 0 ? ["AppliedPages"] : [])
      ]
      return {
        TableName: tables.profiles,
        Key: { CustID: { S: next.custId } },
        // SET only our attributes: the Jam's profiles carry names, emails and more, kept as they are.
        UpdateExpression: `SET ${set.join(", ")}${remove.length === 0 ? "" : ` REMOVE ${remove.join(", ")}`}`,
        ConditionExpression: previous.version === undefined ? "attribute_not_exists(ProfileVersion)" : "ProfileVersion = :prev",
        ExpressionAttributeValues: {
          ":total": { N: String(next.totalTnValue) },
          ":status": { S: next.custStatus },
          ":applied": { S: AppliedLog.encode(next.applied) },
          ":next": { N: String(next.version ?? 1) },
          ...(next.eliteSince === undefined ? {} : { ":since": { S: next.eliteSince } }),
          ...(previous.version === undefined ? {} : { ":prev": { N: String(previous.version) } }),
          ...(next.pages.length === 0 ? {} : { ":pages": { L: next.pages.map(AppliedPages.toSegmentItem) } })
        }
      }
    }

    const promotionItems = (update: ProfileUpdate.ProfileUpdate, promotion: Promotion.Promotion): Array<TransactWriteItem> => [
      { Update: profileUpdateOf(update) },
      // Keyed by the promoting version; one left by an earlier life of the profile is told apart by its cancellation reason.
      { Put: { TableName: tables.events, Item: Promotion.toItem(promotion), ConditionExpression: "attribute_not_exists(CustID)" } }
    ]

    const transact = (items: ReadonlyArray<TransactWriteItem>) =>
      db.call("TransactWriteItems", (c) => c.send(new TransactWriteItemsCommand({ ReturnConsumedCapacity: "TOTAL", TransactItems: [...items] })))
        .pipe(Effect.map((out) => capacityUnits(out.ConsumedCapacity)))

    /**
     * Writes `next` if the row still holds the version `previous` had (`took`: false when another writer
     * won), and says the write units its writes consumed.
     * Its new pages go first, each put where nothing was. A promotion's event goes in the same
     * TransactWriteItems as the profile, so it exists exactly when the profile change does; every other
     * update is one UpdateItem (a transaction costs twice the write units).
     */
    const write = (update: ProfileUpdate.ProfileUpdate) => {
      const { next, promotion } = update
      const sent: Effect.Effect<number, DynamoDbError> = promotion === undefined
        ? db.call("UpdateItem", (c) => c.send(new UpdateItemCommand({ ...profileUpdateOf(update), ReturnConsumedCapacity: "TOTAL" })))
          .pipe(Effect.map((out) => capacityUnits(out.ConsumedCapacity)))
        : transact(promotionItems(update, promotion))
      const profileWrite = Retry.onTransient(sent).pipe(
        Effect.map((units) => ({ took: true, units })),
        Effect.catchTag("DynamoDbError", (e): Effect.Effect<{ readonly took: boolean; readonly units: number }, DynamoDbError | ProfileTooLarge | KeyTaken> =>
          e.kind !== "ConditionFailed"
            ? isItemTooLarge(e)
              ? Effect.fail(new ProfileTooLarge({ custId: next.custId, loggedIds: next.applied.size }))
              : Effect.fail(e)
            : promotion !== undefined && Cancellation.code(e, 0) !== "ConditionalCheckFailed" &&
                Cancellation.code(e, 1) === "ConditionalCheckFailed"
            // The profile still held what we read; only the event's key was taken.
            ? Effect.fail(eventTaken(promotion))
            : Effect.succeed({ took: false, units: 0 }))
      )
      return putPages(update).pipe(
        Effect.flatMap((pageUnits) => profileWrite.pipe(Effect.map(({ took, units }) => ({ took, units: units + pageUnits }))))
      )
    }

    const settle = <E, R>(custId: string, decide: Decide<E, R>, first?: ProfileReads.Read, start: Start = {}) => {
      let ahead = first
      let decided = start.decided
      // Raised by each KeyTaken, kept across attempts: the keys stay taken.
      let avoid: ProfileUpdate.Avoid = start.avoid ?? {}
      // Counted across attempts, for the metrics: the races lost and the write units spent on the way.
      let racesLost = start.racesLost ?? 0
      let writeUnits = 0
      const applied = (update: ProfileUpdate.ProfileUpdate, profileWrites: number): Applied => ({
        ...update,
        writes: { profileWrites, racesLost, writeUnits }
      })
      const read = Effect.suspend(() => {
        const taken = ahead
        ahead = undefined
        return taken === undefined ? reads.get(custId) : Effect.fromResult(taken)
      })
      return Effect.gen(function*() {
        const pending = decided
        decided = undefined
        const now = Math.floor((yield* Clock.currentTimeMillis) / 1000)
        const update = pending ?? (yield* decide(yield* read, now, { avoid }))
        if (!ProfileUpdate.changes(update)) return applied(update, 0)
        const written = yield* write(update)
        writeUnits += written.units
        if (written.took) return applied(update, 1)
        racesLost++
        yield* Effect.logDebug("lost a race for the profile; reading it again").pipe(Effect.annotateLogs({ custId }))
        return yield* new LostRace({ custId, racesLost })
      }).pipe(
        Effect.tapError((e) =>
          Effect.sync(() => {
            if (e instanceof KeyTaken) avoid = stepOver(avoid, e)
          })
        ),
        Effect.retry({ schedule: Retry.lostRace, while: (e) => e instanceof LostRace || e instanceof KeyTaken }),
        // Past its retries a taken key is like a race that kept being lost: delivered again later.
        Effect.mapError((e) => (e instanceof KeyTaken ? new LostRace({ custId, racesLost }) : e))
      )
    }

    const writes: ProfileWrite = { putPages, promotionItems, transact, settle }
    return writes
  })
