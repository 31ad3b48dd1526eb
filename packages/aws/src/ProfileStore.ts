/**
 * The profile store: a customer's planned transactions applied exactly once, by one write conditioned
 * on `ProfileVersion`: anything else that writes TotalTnValue (`Recount`) must bump it too.
 */
import * as AppliedLog from "@dyna/core/AppliedLog"
import type { CustomerPlan } from "@dyna/core/Plan"
import type * as Profile from "@dyna/core/Profile"
import * as ProfileUpdate from "@dyna/core/ProfileUpdate"
import { guardKey } from "@dyna/core/Transaction"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { DynamoDb, type DynamoDbError } from "./DynamoDb.js"
import * as ProfileReads from "./ProfileReads.js"
import * as ProfileWrite from "./ProfileWrite.js"
import { Tables } from "./Tables.js"

/**
 * CustProfile as the stream writes it: only by a conditional write, so that every transaction is counted
 * exactly once (`Recount` writes through the same one).
 */
export class ProfileStore extends Context.Service<ProfileStore, {
  /** The stored profile, or `undefined` when the customer has none. */
  readonly get: (custId: string) => Effect.Effect<Profile.Profile | undefined, DynamoDbError | Profile.UnreadableProfile>
  /**
   * Reads the customers' profiles ahead, one request per 100 instead of one each. Never fails: what it
   * could not read, `apply` reads alone.
   */
  readonly readAhead: (custIds: ReadonlyArray<string>) => Effect.Effect<ProfileReads.ReadAhead>
  /**
   * Counts each transaction of the plan exactly once; a repeat of a counted one is reported as a duplicate.
   * The first attempt starts from `readAhead`'s profile when it has one; a lost race reads again.
   */
  readonly apply: (plan: CustomerPlan, readAhead?: ProfileReads.ReadAhead) => Effect.Effect<ProfileWrite.Applied, ProfileWrite.ApplyError>
}>()("dyna-elite/aws/ProfileStore") {
  /** Over whatever `DynamoDb` and `Tables` it is given: the handler's AppLayer wires them once, tests give DynamoDB Local's. */
  static readonly layerNoDeps = Layer.effect(
    ProfileStore,
    Effect.gen(function*() {
      const reads = yield* ProfileReads.make
      const writes = yield* ProfileWrite.make(reads)

      const apply = Effect.fnUntraced(function*(plan: CustomerPlan, readAhead?: ProfileReads.ReadAhead) {
        const ids = plan.transactions.flatMap((tx) => guardKey(tx) ?? [])
        return yield* writes.settle(plan.custId, (current, now, { avoid }) =>
          reads.spilledAmong(current, ids, now).pipe(
            Effect.map((spilled) => ProfileUpdate.make(current, plan, now, AppliedLog.RETENTION_SECONDS, { spilled, avoid }))
          ), readAhead?.get(plan.custId))
      })

      return ProfileStore.of({ get: reads.get, readAhead: reads.readAhead, apply })
    })
  )

  /** Complete, its client and table names from the environment, for a script or test that wants this one service alone. */
  static readonly layer = ProfileStore.layerNoDeps.pipe(Layer.provide(Layer.mergeAll(DynamoDb.layer, Tables.layer)))
}
