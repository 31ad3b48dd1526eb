/**
 * CustProfile reads and the exactly-once write: one customer's planned transactions are counted with a
 * single conditional UpdateItem that moves the total, the status and the applied log together (with
 * the EliteQualified event, in one transaction, when it promotes).
 * Optimistic concurrency on `ProfileVersion`: anything else that writes TotalTnValue must bump it too.
 */
import { BatchGetItemCommand, GetItemCommand, TransactWriteItemsCommand, UpdateItemCommand } from "@aws-sdk/client-dynamodb"
import type { CustomerPlan } from "@dyna/core/Plan"
import * as Profile from "@dyna/core/Profile"
import * as ProfileUpdate from "@dyna/core/ProfileUpdate"
import * as Promotion from "@dyna/core/Promotion"
import type { CustomerId } from "@dyna/core/Transaction"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Result from "effect/Result"
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

/** One profile read: the profile, `undefined` when the customer has none, or why it cannot be read. */
export type Read = Result.Result<Profile.Profile | undefined, Profile.UnreadableProfile>

/**
 * Profiles read ahead for a batch's customers, strongly consistent, in BatchGetItems of 100. A customer
 * missing from it (left unprocessed, or the whole read failed) is read alone when applied.
 */
export type ReadAhead = ReadonlyMap<string, Read>

/** BatchGetItem's limit on keys per request. */
const BATCH_GET_KEYS = 100

export class ProfileStore extends Context.Service<ProfileStore, {
  /** The stored profile, or `undefined` when the customer has none. */
  readonly get: (custId: string) => Effect.Effect<Profile.Profile | undefined, DynamoDbError | Profile.UnreadableProfile>
  /**
   * Reads the customers' profiles ahead, one request per 100 instead of one each. Never fails: what it
   * could not read, `apply` reads alone.
   */
  readonly readAhead: (custIds: ReadonlyArray<string>) => Effect.Effect<ReadAhead>
  /**
   * Counts each transaction of the plan exactly once; a repeat of a counted one is reported as a duplicate.
   * The first attempt starts from `readAhead`'s profile when it has one; a lost race reads again.
   */
  readonly apply: (plan: CustomerPlan, readAhead?: ReadAhead) => Effect.Effect<ProfileUpdate.ProfileUpdate, ApplyError>
  /**
   * Sets the customer's total to the sum of their CustTransactions rows, through the same conditional
   * write: what backfill and repair do (see `ProfileUpdate.recount`).
   */
  readonly recount: (custId: CustomerId, readAhead?: ReadAhead) => Effect.Effect<ProfileUpdate.ProfileUpdate, ApplyError | UnreadableRow>
}>()("dyna-elite/aws/ProfileStore") {
  static readonly layerNoDeps = Layer.effect(
    ProfileStore,
    Effect.gen(function*() {
      const db = yield* DynamoDb
      const tables = yield* Tables
      const consistentRead = {
        // The write below is conditioned on what this read saw; a stale read would only lose the race.
        ConsistentRead: true
      } as const

      const get = Effect.fn("ProfileStore.get")(function*(custId: string) {
        const { Item } = yield* Retry.onTransient(db.call("GetItem", (c) =>
          c.send(
            new GetItemCommand({
              TableName: tables.profiles,
              Key: { CustID: { S: custId } },
              ...consistentRead
            })
          )))
        if (Item === undefined) return undefined
        return yield* Effect.fromResult(Profile.fromItem(custId, Item))
      })

      const readChunk = (custIds: ReadonlyArray<string>) =>
        Retry.onTransient(db.call("BatchGetItem", (c) =>
          c.send(
            new BatchGetItemCommand({
              RequestItems: { [tables.profiles]: { Keys: custIds.map((custId) => ({ CustID: { S: custId } })), ...consistentRead } }
            })
          ))).pipe(
            Effect.map(({ Responses, UnprocessedKeys }) => {
              const found = new Map((Responses?.[tables.profiles] ?? []).map((item) => [item.CustID?.S, item]))
              // DynamoDB may leave some keys unread (throttling, 16 MB per response): they are read alone later.
              const unread = new Set((UnprocessedKeys?.[tables.profiles]?.Keys ?? []).map((key) => key.CustID?.S))
              return custIds.filter((custId) => !unread.has(custId)).map((custId): readonly [string, Read] => {
                const item = found.get(custId)
                return [custId, item === undefined ? Result.succeed(undefined) : Profile.fromItem(custId, item)]
              })
            }),
            // Only a shortcut: each customer is read alone instead.
            Effect.catch((error) =>
              Effect.logDebug("profiles not read ahead").pipe(Effect.annotateLogs({ error: error.message }), Effect.as([]))
            )
          )

      const readAhead = Effect.fn("ProfileStore.readAhead")(function*(custIds: ReadonlyArray<string>) {
        const chunks = Array.from(
          { length: Math.ceil(custIds.length / BATCH_GET_KEYS) },
          (_, i) => custIds.slice(i * BATCH_GET_KEYS, (i + 1) * BATCH_GET_KEYS)
        )
        const reads = yield* Effect.forEach(chunks, readChunk, { concurrency: "unbounded" })
        const ahead: ReadAhead = new Map(reads.flat())
        return ahead
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

      /**
       * Reads (the first time from `first`, when given), decides with `decide`, writes conditionally; a
       * lost race reads again, on `Retry.lostRace`.
       */
      const settle = <E, R>(
        custId: string,
        decide: (current: Profile.Profile | undefined, nowSeconds: number) => Effect.Effect<ProfileUpdate.ProfileUpdate, E, R>,
        first?: Read
      ) => {
        let ahead = first
        const read = Effect.suspend(() => {
          const taken = ahead
          ahead = undefined
          return taken === undefined ? get(custId) : Effect.fromResult(taken)
        })
        return Effect.gen(function*() {
          const current = yield* read
          const now = Math.floor((yield* Clock.currentTimeMillis) / 1000)
          const update = yield* decide(current, now)
          if (!ProfileUpdate.changes(update)) return update
          if (yield* write(update)) return update
          yield* Effect.logDebug("lost a race for the profile; reading it again").pipe(Effect.annotateLogs({ custId }))
          return yield* new LostRace({ custId })
        }).pipe(Effect.retry({ schedule: Retry.lostRace, while: (e) => e instanceof LostRace }))
      }

      const apply = Effect.fn("ProfileStore.apply")(function*(plan: CustomerPlan, readAhead?: ReadAhead) {
        return yield* settle(plan.custId, (current, now) => Effect.succeed(ProfileUpdate.make(current, plan, now)), readAhead?.get(plan.custId))
      })

      const recount = Effect.fn("ProfileStore.recount")(function*(custId: CustomerId, readAhead?: ReadAhead) {
        // The rows are read after the profile: see `ProfileUpdate.recount` for why that order is exact.
        return yield* settle(custId, (current, now) =>
          Transactions.ofCustomer(custId).pipe(
            Effect.map((rows) => ProfileUpdate.recount(custId, current, rows, now)),
            Effect.provideService(DynamoDb, db),
            Effect.provideService(Tables, tables)
          ), readAhead?.get(custId))
      })

      return ProfileStore.of({ get, readAhead, apply, recount })
    })
  )

  static readonly layer = ProfileStore.layerNoDeps.pipe(Layer.provide(Layer.mergeAll(DynamoDb.layer, Tables.layer)))
}
