/**
 * The profile store: a customer's planned transactions applied exactly once, or their total recounted
 * from their rows, each by one write conditioned on `ProfileVersion`: anything else that writes
 * TotalTnValue must bump it too.
 */
import * as AppliedLog from "@dyna/core/AppliedLog"
import type { CustomerPlan } from "@dyna/core/Plan"
import type * as Profile from "@dyna/core/Profile"
import * as ProfileUpdate from "@dyna/core/ProfileUpdate"
import { type CustomerId, guardKey, type Transaction } from "@dyna/core/Transaction"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { DynamoDb, type DynamoDbError } from "./DynamoDb.js"
import * as ProfileReads from "./ProfileReads.js"
import * as ProfileRecount from "./ProfileRecount.js"
import * as ProfileWrite from "./ProfileWrite.js"
import { Tables } from "./Tables.js"
import { TransactionStore, type UnreadableRow } from "./TransactionStore.js"

/** CustProfile, written only here and only by a conditional write, so that every transaction is counted exactly once. */
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
  /**
   * Sets the customer's total to the sum of their CustTransactions rows, through the same conditional
   * write: what backfill and repair do (see `ProfileUpdate.recount`).
   */
  readonly recount: (
    custId: CustomerId,
    readAhead?: ProfileReads.ReadAhead
  ) => Effect.Effect<ProfileWrite.Applied, ProfileWrite.ApplyError | UnreadableRow>
  /**
   * `recount` from rows the caller read already: `scanned` must be every row the customer had when a
   * strongly consistent read began, before the profile is read (a consistent Scan's pages that hold all
   * of the customer's rows, as backfill reads them). Used as they are when the profile read after them
   * has no applied pages and every key in its log is among them; otherwise Queried as `recount` does.
   *
   * Exact: every row the stream counted before the profile read is then in `scanned` (written before
   * the scan began; or counted since, so in the log, so among them), and a row written since the scan
   * began that the stream has not counted is in neither, so the stream counts it when it comes. The
   * write is conditioned on the version read, as `recount`'s is.
   */
  readonly recountScanned: (
    custId: CustomerId,
    scanned: ReadonlyArray<Transaction>,
    readAhead?: ProfileReads.ReadAhead
  ) => Effect.Effect<ProfileWrite.Applied, ProfileWrite.ApplyError | UnreadableRow>
}>()("dyna-elite/aws/ProfileStore") {
  /** Over whatever `DynamoDb`, `Tables` and `TransactionStore` it is given: the handler's AppLayer wires them once, tests give DynamoDB Local's. */
  static readonly layerNoDeps = Layer.effect(
    ProfileStore,
    Effect.gen(function*() {
      const reads = yield* ProfileReads.make
      const writes = yield* ProfileWrite.make(reads)
      const recountOne = yield* ProfileRecount.make(reads, writes)

      const apply = Effect.fnUntraced(function*(plan: CustomerPlan, readAhead?: ProfileReads.ReadAhead) {
        const ids = plan.transactions.flatMap((tx) => guardKey(tx) ?? [])
        return yield* writes.settle(plan.custId, (current, now, { avoid }) =>
          reads.spilledAmong(current, ids, now).pipe(
            Effect.map((spilled) => ProfileUpdate.make(current, plan, now, AppliedLog.RETENTION_SECONDS, { spilled, avoid }))
          ), readAhead?.get(plan.custId))
      })

      const recount = Effect.fnUntraced(function*(custId: CustomerId, readAhead?: ProfileReads.ReadAhead) {
        return yield* recountOne(custId, undefined, readAhead?.get(custId))
      })

      const recountScanned = Effect.fnUntraced(
        function*(custId: CustomerId, scanned: ReadonlyArray<Transaction>, readAhead?: ProfileReads.ReadAhead) {
          return yield* recountOne(custId, scanned, readAhead?.get(custId))
        }
      )

      return ProfileStore.of({ get: reads.get, readAhead: reads.readAhead, apply, recount, recountScanned })
    })
  )

  /** Complete from configuration, for a script or test that wants this one service alone. */
  static readonly layer = ProfileStore.layerNoDeps.pipe(
    Layer.provide(TransactionStore.layerNoDeps),
    Layer.provide(Layer.mergeAll(DynamoDb.layer, Tables.layer))
  )
}
