/**
 * Recounts: a customer's total set to the sum of their CustTransactions rows, through the handler's own
 * conditional write; and backfill's recount batches, up to 50 customers' promotions in one
 * TransactWriteItems. What repair, replay and backfill do, never the stream: not in the handler's AppLayer.
 */
import type * as RecountBatch from "@dyna/core/RecountBatch"
import type { CustomerId, Transaction } from "@dyna/core/Transaction"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Result from "effect/Result"
import * as Cancellation from "./Cancellation.js"
import { DynamoDb, type DynamoDbError } from "./DynamoDb.js"
import * as ProfileReads from "./ProfileReads.js"
import * as ProfileRecount from "./ProfileRecount.js"
import * as ProfileWrite from "./ProfileWrite.js"
import * as Retry from "./Retry.js"
import { Tables } from "./Tables.js"
import { TransactionStore, type UnreadableRow } from "./TransactionStore.js"

/** One customer's share of a recount batch: its `Applied`, or why it was not written. */
export interface Recounted {
  readonly custId: string
  readonly result: Result.Result<ProfileWrite.Applied, ProfileWrite.ApplyError | UnreadableRow>
}

/** Members recounted alone at once after a cancellation: few, unless many lost their races. */
const ALONE_CONCURRENCY = 4

/** Members whose pages are put at once before their shared transaction: as many as backfill has writes in flight. */
const PAGING_CONCURRENCY = 16

/**
 * Recounts customers through the handler's own conditional write (`ProfileWrite`, on `ProfileVersion`),
 * from the rows `TransactionStore` reads or a scan read: one customer, or a recount batch's promotions together.
 */
export class Recount extends Context.Service<Recount, {
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
  /**
   * Writes one of `RecountBatch.plan`'s writes, decided from scanned rows on profiles read ahead, and
   * says each customer's outcome (never fails as a whole). A customer alone is `recountScanned`
   * (or, without rows, `recount`), its first attempt the decided update. A shared transaction writes every
   * member's profile update and event, each conditioned on the version its decision read, once the
   * members' new pages are put (a member whose page key is taken goes alone, past it); when
   * DynamoDB cancels it, nothing is written, and its `CancellationReasons` name the members at fault:
   * each of those is recounted alone (read again, decide, write, as `recountScanned` does), and the
   * others are written again as a smaller transaction. Write units of a shared transaction are split
   * evenly among its members (each wrote the same two items); each adds its own pages' units.
   */
  readonly recountPlanned: (planned: RecountBatch.Planned, readAhead?: ProfileReads.ReadAhead) => Effect.Effect<ReadonlyArray<Recounted>>
}>()("dyna-elite/aws/Recount") {
  /** Over whatever `DynamoDb`, `Tables` and `TransactionStore` it is given: the tools' `AppLayer.operations` wires them once, tests give DynamoDB Local's. */
  static readonly layerNoDeps = Layer.effect(
    Recount,
    Effect.gen(function*() {
      const reads = yield* ProfileReads.make
      const writes = yield* ProfileWrite.make(reads)
      const recountOne = yield* ProfileRecount.make(reads, writes)

      const recount = Effect.fnUntraced(function*(custId: CustomerId, readAhead?: ProfileReads.ReadAhead) {
        return yield* recountOne(custId, undefined, readAhead?.get(custId))
      })

      const recountScanned = Effect.fnUntraced(
        function*(custId: CustomerId, scanned: ReadonlyArray<Transaction>, readAhead?: ProfileReads.ReadAhead) {
          return yield* recountOne(custId, scanned, readAhead?.get(custId))
        }
      )

      /** A customer recounted alone, its outcome kept rather than failed. */
      const recountAlone = (
        custId: CustomerId,
        rows: ReadonlyArray<Transaction> | undefined,
        first: ProfileReads.Read | undefined,
        start: ProfileWrite.Start
      ) =>
        recountOne(custId, rows, first, start).pipe(
          Effect.result,
          Effect.map((result): Recounted => ({ custId, result }))
        )

      /**
       * Puts the members' new pages, as the lone write does before a profile write, then writes their
       * promotions together. A member whose page key is found taken goes alone, stepping over it as
       * `settle` does.
       */
      const writeShared = (members: ReadonlyArray<RecountBatch.Member>): Effect.Effect<ReadonlyArray<Recounted>> =>
        Effect.gen(function*() {
          const paged = yield* Effect.forEach(
            members,
            (member) => writes.putPages(member.update).pipe(Effect.result, Effect.map((put) => ({ member, put }))),
            { concurrency: PAGING_CONCURRENCY }
          )
          const ready: Array<RecountBatch.Member> = []
          const pageUnits = new Map<string, number>()
          const taken: Array<Effect.Effect<Recounted>> = []
          for (const { member, put } of paged) {
            if (Result.isSuccess(put)) {
              ready.push(member)
              pageUnits.set(member.custId, put.success)
            } else if (put.failure instanceof ProfileWrite.KeyTaken) {
              taken.push(recountAlone(member.custId, member.rows, undefined, { avoid: ProfileWrite.stepOver({}, put.failure) }))
            } else {
              taken.push(Effect.succeed({ custId: member.custId, result: Result.fail(put.failure) }))
            }
          }
          const [written, alone] = yield* Effect.all([
            ready.length === 0 ? Effect.succeed([]) : writeTogether(ready, pageUnits),
            Effect.all(taken, { concurrency: ALONE_CONCURRENCY })
          ], { concurrency: 2 })
          return [...written, ...alone]
        })

      /**
       * One TransactWriteItems of the members' profile updates and events (each update conditioned on
       * the version its decision read, each event on its key being free), their pages put already. When
       * DynamoDB cancels it, the members its reasons name go alone and the rest are written together
       * again: fewer each time.
       */
      const writeTogether = (
        members: ReadonlyArray<RecountBatch.Member>,
        pageUnits: ReadonlyMap<string, number>
      ): Effect.Effect<ReadonlyArray<Recounted>> =>
        Retry.onTransient(writes.transact(members.flatMap(({ update, promotion }) => writes.promotionItems(update, promotion)))).pipe(
            Effect.map((units) => {
              // Every member wrote the same two items: an even share each, and its own pages.
              const share = units / members.length
              return members.map(({ custId, update }): Recounted => ({
                custId,
                result: Result.succeed({ ...update, writes: { profileWrites: 1, racesLost: 0, writeUnits: share + (pageUnits.get(custId) ?? 0) } })
              }))
            }),
            Effect.catch((error) => sharedCancelled(members, pageUnits, error))
          )

      const sharedCancelled = (members: ReadonlyArray<RecountBatch.Member>, pageUnits: ReadonlyMap<string, number>, error: DynamoDbError) =>
        Effect.gen(function*() {
          const reasons = Cancellation.reasons(error)
          // Not a cancellation with a reason per item (the table is missing, throttled past retries): each member fails alike.
          if (reasons === undefined || reasons.length !== members.length * 2) {
            return members.map(({ custId }): Recounted => ({ custId, result: Result.fail(error) }))
          }
          const again: Array<RecountBatch.Member> = []
          const alone: Array<{ readonly member: RecountBatch.Member; readonly start: ProfileWrite.Start }> = []
          members.forEach((member, i) => {
            const profile = reasons[2 * i]?.Code ?? "None"
            const event = reasons[2 * i + 1]?.Code ?? "None"
            if (profile === "None" && event === "None") again.push(member)
            else if (profile === "ConditionalCheckFailed") alone.push({ member, start: { racesLost: 1 } })
            // The profile still held what we read; only the event's key was taken: step over it, as `settle` does.
            else if (event === "ConditionalCheckFailed") {
              alone.push({ member, start: { avoid: ProfileWrite.stepOver({}, ProfileWrite.eventTaken(member.promotion)) } })
            }
            // Anything else (too large, a conflict past its retries) is told apart by a write of its own.
            else alone.push({ member, start: {} })
          })
          yield* Effect.logDebug("shared promotions cancelled; recounting the members at fault alone").pipe(
            Effect.annotateLogs({ members: members.length, alone: alone.length })
          )
          // A cancellation naming no member would come back the same: then every member goes alone.
          const together = alone.length === 0 ? [] : again
          const apart = alone.length === 0 ? members.map((member) => ({ member, start: {} })) : alone
          const [written, recounted] = yield* Effect.all([
            together.length === 0 ? Effect.succeed([]) : writeTogether(together, pageUnits),
            Effect.forEach(apart, ({ member, start }) => recountAlone(member.custId, member.rows, undefined, start), {
              concurrency: ALONE_CONCURRENCY
            })
          ], { concurrency: 2 })
          return [...written, ...recounted]
        })

      const recountPlanned = (planned: RecountBatch.Planned, readAhead?: ProfileReads.ReadAhead): Effect.Effect<ReadonlyArray<Recounted>> =>
        planned._tag === "Shared"
          ? writeShared(planned.members)
          : planned.update === undefined
          ? Effect.map(recountAlone(planned.custId, planned.rows, readAhead?.get(planned.custId), {}), (r) => [r])
          : Effect.map(recountAlone(planned.custId, planned.rows, undefined, { decided: planned.update }), (r) => [r])

      return Recount.of({ recount, recountScanned, recountPlanned })
    })
  )

  /** Complete, its client and table names from the environment, for a script or test that wants this one service alone. */
  static readonly layer = Recount.layerNoDeps.pipe(
    Layer.provide(TransactionStore.layerNoDeps),
    Layer.provide(Layer.mergeAll(DynamoDb.layer, Tables.layer))
  )
}
