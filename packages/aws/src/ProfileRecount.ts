/**
 * One customer's recount: the total set to the sum of their CustTransactions rows, taken from a scan
 * when it covers the log of the profile read after it, else Queried after that read; then settled.
 */
import * as AppliedLog from "@dyna/core/AppliedLog"
import type * as Profile from "@dyna/core/Profile"
import * as ProfileUpdate from "@dyna/core/ProfileUpdate"
import * as RecountBatch from "@dyna/core/RecountBatch"
import { type CustomerId, guardKey, type Transaction } from "@dyna/core/Transaction"
import * as Effect from "effect/Effect"
import type * as ProfileReads from "./ProfileReads.js"
import type * as ProfileWrite from "./ProfileWrite.js"
import { TransactionStore, type UnreadableRow } from "./TransactionStore.js"

/**
 * Recounts the customer through `settle` (its first read `first`, when given; `start` as `settle` takes
 * it). Each attempt reads the profile after the scan: `RecountBatch.coversLog` decides on that read
 * whether `scanned` will do; without it, or when it will not, the rows are Queried after the read.
 */
export type ProfileRecount = (
  custId: CustomerId,
  scanned: ReadonlyArray<Transaction> | undefined,
  first?: ProfileReads.Read,
  start?: ProfileWrite.Start
) => Effect.Effect<ProfileWrite.Applied, ProfileWrite.ApplyError | UnreadableRow>

/** The recount over the given reads and write, and the rows `TransactionStore` reads. */
export const make = (reads: ProfileReads.ProfileReads, writes: ProfileWrite.ProfileWrite) =>
  Effect.gen(function*() {
    const transactions = yield* TransactionStore

    /** The recount from the customer's rows, Queried strongly consistent after `current` was read. */
    const recountQueried = (custId: CustomerId, current: Profile.Profile | undefined, now: number, avoid: ProfileUpdate.Avoid) =>
      transactions.ofCustomer(custId).pipe(
        Effect.flatMap((rows) =>
          reads.spilledAmong(current, rows.flatMap((tx) => guardKey(tx) ?? []), now).pipe(
            Effect.map((spilled) => ProfileUpdate.recount(custId, current, rows, now, AppliedLog.RETENTION_SECONDS, { spilled, avoid }))
          )
        )
      )

    const decide = (
      custId: CustomerId,
      scanned: ReadonlyArray<Transaction> | undefined
    ): ProfileWrite.Decide<ProfileWrite.ApplyError | UnreadableRow, never> =>
    (current, now, { avoid }) =>
      scanned !== undefined && RecountBatch.coversLog(current, scanned)
        ? Effect.succeed(ProfileUpdate.recount(custId, current, scanned, now, AppliedLog.RETENTION_SECONDS, { avoid }))
        // The rows are read after the profile: see `ProfileUpdate.recount` for why that order is exact.
        : recountQueried(custId, current, now, avoid)

    const recount: ProfileRecount = (custId, scanned, first, start) => writes.settle(custId, decide(custId, scanned), first, start)
    return recount
  })
