/**
 * CustProfile reads and the exactly-once write: one customer's planned transactions are counted with a
 * single conditional UpdateItem that moves the total, the status and the applied log together (with
 * the EliteQualified event, in one transaction, when it promotes).
 * Optimistic concurrency on `ProfileVersion`: anything else that writes TotalTnValue must bump it too.
 */
import { GetItemCommand, TransactWriteItemsCommand, UpdateItemCommand } from "@aws-sdk/client-dynamodb"
import type { CustomerPlan } from "@dyna/core/Plan"
import * as Profile from "@dyna/core/Profile"
import * as ProfileUpdate from "@dyna/core/ProfileUpdate"
import * as Promotion from "@dyna/core/Promotion"
import type { CustomerId } from "@dyna/core/Transaction"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import { DynamoDb, type DynamoDbError, isItemTooLarge } from "./DynamoDb.js"
import * as Retry from "./Retry.js"
import { Tables } from "./Tables.js"
import * as Transactions from "./Transactions.js"
import type { UnreadableRow } from "./Transactions.js"

/** Other writers kept changing the profile between our read and our write, past `Retry.lostRace`. */
export class LostRace extends Schema.TaggedError<LostRace>()("LostRace", { custId: Schema.String }) {
  override get message() {
    return `CustProfile ${this.custId} kept changing under concurrent writers; will be delivered again`
  }
}

/**
 * The profile would pass DynamoDB's 400 KB item limit: its applied log holds more ids than fit (tens of
 * thousands of transactions of one customer within 25 hours, or a recount of that many rows).
 */
export class ProfileTooLarge extends Schema.TaggedError<ProfileTooLarge>()("ProfileTooLarge", {
  custId: Schema.String,
  loggedIds: Schema.Number
}) {
  override get message() {
    return `CustProfile ${this.custId} would pass DynamoDB's 400 KB item limit with ${this.loggedIds} transaction ids in its applied log`
  }
}

export type ApplyError = DynamoDbError | LostRace | ProfileTooLarge | Profile.UnreadableProfile

export class ProfileStore extends Context.Service<ProfileStore, {
  /** The stored profile, or `undefined` when the customer has none. */
  readonly get: (custId: string) => Effect.Effect<Profile.Profile | undefined, DynamoDbError | Profile.UnreadableProfile>
  /** Counts each transaction of the plan exactly once; a repeat of a counted one is reported as a duplicate. */
  readonly apply: (plan: CustomerPlan) => Effect.Effect<ProfileUpdate.ProfileUpdate, ApplyError>
  /**
   * Sets the customer's total to the sum of their CustTransactions rows, through the same conditional
   * write: what backfill and repair do (see `ProfileUpdate.recount`).
   */
  readonly recount: (custId: CustomerId) => Effect.Effect<ProfileUpdate.ProfileUpdate, ApplyError | UnreadableRow>
}>()("dyna-elite/aws/ProfileStore") {
  static readonly layerNoDeps = Layer.effect(
    ProfileStore,
    Effect.gen(function*() {
      const db = yield* DynamoDb
      const tables = yield* Tables
      const get = Effect.fn("ProfileStore.get")(function*(custId: string) {
        const { Item } = yield* Retry.onTransient(db.call("GetItem", (c) =>
          c.send(
            new GetItemCommand({
              TableName: tables.profiles,
              Key: { CustID: { S: custId } },
              // The write below is conditioned on what this read saw; a stale read would only lose the race.
              ConsistentRead: true
            })
          )))
        if (Item === undefined) return undefined
        return yield* Effect.fromResult(Profile.fromItem(custId, Item))
      })

      /**
       * Writes `next` if the row still holds the version `previous` had; false when another writer won.
       * A promotion's event goes in the same TransactWriteItems, so it exists exactly when the profile
       * change does; every other update is one UpdateItem (a transaction costs twice the write units).
       */
      const write = (update: ProfileUpdate.ProfileUpdate) => {
        const { next, previous, promotion } = update
        const applied: Record<string, { N: string }> = {}
        for (const [key, at] of next.applied) applied[key] = { N: String(at) }
        const since = next.eliteSince === undefined ? (previous.eliteSince === undefined ? "" : " REMOVE EliteSince") : ", EliteSince = :since"
        const profileUpdate = {
          TableName: tables.profiles,
          Key: { CustID: { S: next.custId } },
          // SET only our attributes: the Jam's profiles carry names, emails and more, kept as they are.
          UpdateExpression: `SET TotalTnValue = :total, CustStatus = :status, AppliedTn = :applied, ProfileVersion = :next${since}`,
          ConditionExpression: previous.version === undefined ? "attribute_not_exists(ProfileVersion)" : "ProfileVersion = :prev",
          ExpressionAttributeValues: {
            ":total": { N: String(next.totalTnValue) },
            ":status": { S: next.custStatus },
            ":applied": { M: applied },
            ":next": { N: String(next.version ?? 1) },
            ...(next.eliteSince === undefined ? {} : { ":since": { S: next.eliteSince } }),
            ...(previous.version === undefined ? {} : { ":prev": { N: String(previous.version) } })
          }
        }
        const sent: Effect.Effect<unknown, DynamoDbError> = promotion === undefined
          ? db.call("UpdateItem", (c) => c.send(new UpdateItemCommand(profileUpdate)))
          : db.call("TransactWriteItems", (c) =>
            c.send(
              new TransactWriteItemsCommand({
                TransactItems: [
                  { Update: profileUpdate },
                  // The key holds the promoting version, which the profile condition makes unique.
                  { Put: { TableName: tables.events, Item: Promotion.toItem(promotion), ConditionExpression: "attribute_not_exists(CustID)" } }
                ]
              })
            ))
        return Retry.onTransient(sent).pipe(
          Effect.as(true),
          Effect.catchTag("DynamoDbError", (e): Effect.Effect<boolean, DynamoDbError | ProfileTooLarge> =>
            e.kind === "ConditionFailed"
              ? Effect.succeed(false)
              : isItemTooLarge(e)
              ? Effect.fail(new ProfileTooLarge({ custId: next.custId, loggedIds: next.applied.size }))
              : Effect.fail(e))
        )
      }

      /** Reads, decides with `decide`, writes conditionally; a lost race reads again, on `Retry.lostRace`. */
      const settle = <E, R>(
        custId: string,
        decide: (current: Profile.Profile | undefined, nowSeconds: number) => Effect.Effect<ProfileUpdate.ProfileUpdate, E, R>
      ) =>
        Effect.gen(function*() {
          const current = yield* get(custId)
          const now = Math.floor((yield* Clock.currentTimeMillis) / 1000)
          const update = yield* decide(current, now)
          if (!ProfileUpdate.changes(update)) return update
          if (yield* write(update)) return update
          yield* Effect.logDebug("lost a race for the profile; reading it again").pipe(Effect.annotateLogs({ custId }))
          return yield* new LostRace({ custId })
        }).pipe(Effect.retry({ schedule: Retry.lostRace, while: (e) => e instanceof LostRace }))

      const apply = Effect.fn("ProfileStore.apply")(function*(plan: CustomerPlan) {
        return yield* settle(plan.custId, (current, now) => Effect.succeed(ProfileUpdate.make(current, plan, now)))
      })

      const recount = Effect.fn("ProfileStore.recount")(function*(custId: CustomerId) {
        // The rows are read after the profile: see `ProfileUpdate.recount` for why that order is exact.
        return yield* settle(custId, (current, now) =>
          Transactions.ofCustomer(custId).pipe(
            Effect.map((rows) => ProfileUpdate.recount(custId, current, rows, now)),
            Effect.provideService(DynamoDb, db),
            Effect.provideService(Tables, tables)
          ))
      })

      return ProfileStore.of({ get, apply, recount })
    })
  )

  static readonly layer = ProfileStore.layerNoDeps.pipe(Layer.provide(Layer.mergeAll(DynamoDb.layer, Tables.layer)))
}
