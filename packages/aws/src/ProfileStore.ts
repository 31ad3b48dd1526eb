/**
 * CustProfile reads and the exactly-once write: one customer's planned transactions are counted with a
 * single conditional UpdateItem that moves the total, the status and the applied log together.
 * Optimistic concurrency on `ProfileVersion`: anything else that writes TotalTnValue must bump it too.
 */
import { GetItemCommand, UpdateItemCommand } from "@aws-sdk/client-dynamodb"
import type { CustomerPlan } from "@dyna/core/Plan"
import * as Profile from "@dyna/core/Profile"
import * as ProfileUpdate from "@dyna/core/ProfileUpdate"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import { DynamoDb, type DynamoDbError } from "./DynamoDb.js"
import * as Retry from "./Retry.js"
import { Tables } from "./Tables.js"

/** Other writers kept changing the profile between our read and our write, past `Retry.lostRace`. */
export class LostRace extends Schema.TaggedError<LostRace>()("LostRace", { custId: Schema.String }) {
  override get message() {
    return `CustProfile ${this.custId} kept changing under concurrent writers; will be delivered again`
  }
}

export type ApplyError = DynamoDbError | LostRace | Profile.UnreadableProfile

export class ProfileStore extends Context.Service<ProfileStore, {
  /** The stored profile, or `undefined` when the customer has none. */
  readonly get: (custId: string) => Effect.Effect<Profile.Profile | undefined, DynamoDbError | Profile.UnreadableProfile>
  /** Counts each transaction of the plan exactly once; a repeat of a counted one is reported as a duplicate. */
  readonly apply: (plan: CustomerPlan) => Effect.Effect<ProfileUpdate.ProfileUpdate, ApplyError>
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

      /** Writes `next` if the row still holds the version `previous` had; false when another writer won. */
      const write = (update: ProfileUpdate.ProfileUpdate) => {
        const { next, previous } = update
        const applied: Record<string, { N: string }> = {}
        for (const [key, at] of next.applied) applied[key] = { N: String(at) }
        return Retry.onTransient(db.call("UpdateItem", (c) =>
          c.send(
            new UpdateItemCommand({
              TableName: tables.profiles,
              Key: { CustID: { S: next.custId } },
              // SET only our attributes: the Jam's profiles carry names, emails and more, kept as they are.
              UpdateExpression: "SET TotalTnValue = :total, CustStatus = :status, AppliedTn = :applied, ProfileVersion = :next",
              ConditionExpression: previous.version === undefined ? "attribute_not_exists(ProfileVersion)" : "ProfileVersion = :prev",
              ExpressionAttributeValues: {
                ":total": { N: String(next.totalTnValue) },
                ":status": { S: next.custStatus },
                ":applied": { M: applied },
                ":next": { N: String(next.version ?? 1) },
                ...(previous.version === undefined ? {} : { ":prev": { N: String(previous.version) } })
              }
            })
          ))).pipe(
            Effect.as(true),
            Effect.catchTag("DynamoDbError", (e) => e.kind === "ConditionFailed" ? Effect.succeed(false) : Effect.fail(e))
          )
      }

      const attempt = Effect.fn("ProfileStore.attempt")(function*(plan: CustomerPlan) {
        const current = yield* get(plan.custId)
        const now = Math.floor((yield* Clock.currentTimeMillis) / 1000)
        const update = ProfileUpdate.make(current, plan, now)
        if (update.applied.length === 0) return update
        if (yield* write(update)) return update
        yield* Effect.logDebug("lost a race for the profile; reading it again").pipe(Effect.annotateLogs({ custId: plan.custId }))
        return yield* new LostRace({ custId: plan.custId })
      })

      const apply = Effect.fn("ProfileStore.apply")(function*(plan: CustomerPlan) {
        return yield* attempt(plan).pipe(Effect.retry({ schedule: Retry.lostRace, while: (e) => e._tag === "LostRace" }))
      })

      return ProfileStore.of({ get, apply })
    })
  )

  static readonly layer = ProfileStore.layerNoDeps.pipe(Layer.provide(Layer.mergeAll(DynamoDb.layer, Tables.layer)))
}
