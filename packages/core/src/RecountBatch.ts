/**
 * A batch of customers to recount from the rows a consistent Scan read, decided on the profiles read
 * ahead for them, and sorted into the writes that carry them: each promotion shares one
 * TransactWriteItems with other customers' promotions (a long log's pages put before it), every other
 * customer is written alone.
 *
 * Why share: a promotion is a transaction anyway (the profile change and its EliteQualified event, so
 * the event exists exactly when the change does), and DynamoDB charges a transactional write two units
 * per item whether its transaction holds one customer or fifty. A customer who is not promoted stays a
 * single conditional UpdateItem: in a transaction it would cost twice as much. Each customer's write
 * keeps its own condition on the version read, so sharing changes what a write costs, not what it means.
 *
 * @since 0.1.0
 */
import * as Result from "effect/Result"
import * as AppliedLog from "./AppliedLog.js"
import type * as Profile from "./Profile.js"
import * as ProfileUpdate from "./ProfileUpdate.js"
import type * as Promotion from "./Promotion.js"
import { type CustomerId, guardKey, type Transaction } from "./Transaction.js"

/**
 * Customers in one shared transaction at most: two items each (the profile update, the event put),
 * and TransactWriteItems takes 100.
 *
 * @since 0.1.0
 * @category constants
 */
export const MAX_SHARED = 50

/**
 * A customer of the batch: the rows the Scan read (every row they had when the Scan reached them,
 * read before their profile), or `undefined` when they must be Queried instead.
 *
 * @since 0.1.0
 * @category models
 */
export interface Scanned {
  readonly custId: CustomerId
  readonly rows: ReadonlyArray<Transaction> | undefined
}

/**
 * A customer written alone. `update` is the first attempt's update when it was decided on the profile
 * read ahead; `undefined` when the profile must be read (again) before deciding.
 *
 * @since 0.1.0
 * @category models
 */
export interface Alone {
  readonly _tag: "Alone"
  readonly custId: CustomerId
  readonly rows: ReadonlyArray<Transaction> | undefined
  readonly update: ProfileUpdate.ProfileUpdate | undefined
}

/**
 * A customer's promotion, decided on the profile read ahead, in a shared transaction.
 *
 * @since 0.1.0
 * @category models
 */
export interface Member {
  readonly custId: CustomerId
  readonly rows: ReadonlyArray<Transaction>
  readonly update: ProfileUpdate.ProfileUpdate
  /** The update's promotion: its EliteQualified event goes in the same transaction. */
  readonly promotion: Promotion.Promotion
}

/**
 * Promotions of distinct customers (at most {@link MAX_SHARED}) written in one transaction.
 *
 * @since 0.1.0
 * @category models
 */
export interface Shared {
  readonly _tag: "Shared"
  readonly members: ReadonlyArray<Member>
}

/**
 * A profile as read ahead for the batch: the profile, `undefined` when the customer has none, or why it
 * cannot be read.
 *
 * @since 0.1.0
 * @category models
 */
export type Read = Result.Result<Profile.Profile | undefined, Profile.UnreadableProfile>

/**
 * One write of the batch, for one customer or several.
 *
 * @since 0.1.0
 * @category models
 */
export type Planned = Alone | Shared

/**
 * Whether the update may share a transaction with other customers' promotions: it promotes (so it is a
 * transaction whatever happens). Its applied pages, if any, are put before the shared transaction, as
 * they are before a lone write.
 *
 * @since 0.1.0
 * @category guards
 */
export const canShare = (update: ProfileUpdate.ProfileUpdate): boolean =>
  ProfileUpdate.changes(update) && update.promotion !== undefined

/**
 * Whether rows scanned before `current` was read account for everything its applied log holds: no
 * pages (so the log is all inline) and every logged key among `rows`. A key the log holds that the
 * rows lack is a row written after the Scan reached the customer, and counted by the stream since.
 *
 * @since 0.1.0
 * @category rules
 */
export const coversLog = (current: Profile.Profile | undefined, rows: ReadonlyArray<Transaction>): boolean => {
  if (current === undefined) return true
  if (current.pages.length > 0) return false
  if (current.applied.size === 0) return true
  const keys = new Set<string>()
  for (const tx of rows) {
    const key = guardKey(tx)
    if (key !== undefined) keys.add(key)
  }
  for (const key of current.applied.keys()) if (!keys.has(key)) return false
  return true
}

/**
 * Splits promotions into groups of distinct customers, {@link MAX_SHARED} at most each, in order: a
 * transaction may not touch one item twice, so a customer met again goes to a later group.
 *
 * @since 0.1.0
 * @category rules
 */
export const groups = <A extends { readonly custId: string }>(
  members: ReadonlyArray<A>,
  max: number = MAX_SHARED
): ReadonlyArray<ReadonlyArray<A>> => {
  const size = Math.max(1, Math.floor(max))
  const out: Array<{ readonly members: Array<A>; readonly custIds: Set<string> }> = []
  for (const member of members) {
    let group = out.find((g) => g.members.length < size && !g.custIds.has(member.custId))
    if (group === undefined) {
      group = { members: [], custIds: new Set() }
      out.push(group)
    }
    group.members.push(member)
    group.custIds.add(member.custId)
  }
  return out.map((g) => g.members)
}

/**
 * Decides each customer's recount on the profile read ahead for them (`reads`, by CustID) and sorts the
 * batch into writes: promotions that {@link canShare} in groups of {@link MAX_SHARED}, everyone else
 * alone. A customer is decided only from rows that account for its profile's log ({@link coversLog});
 * otherwise, or without a profile read ahead, or without rows, it goes alone, undecided, to be read
 * (and Queried) first.
 *
 * @since 0.1.0
 * @category rules
 */
export const plan = (
  customers: ReadonlyArray<Scanned>,
  reads: ReadonlyMap<string, Read>,
  nowSeconds: number,
  retentionSeconds: number = AppliedLog.RETENTION_SECONDS
): ReadonlyArray<Planned> => {
  const alone: Array<Planned> = []
  const shared: Array<Member> = []
  for (const { custId, rows } of customers) {
    const read = reads.get(custId)
    if (rows === undefined || read === undefined || Result.isFailure(read) || !coversLog(read.success, rows)) {
      alone.push({ _tag: "Alone", custId, rows, update: undefined })
      continue
    }
    const update = ProfileUpdate.recount(custId, read.success, rows, nowSeconds, retentionSeconds)
    const promotion = update.promotion
    if (promotion !== undefined && canShare(update)) shared.push({ custId, rows, update, promotion })
    else alone.push({ _tag: "Alone", custId, rows, update })
  }
  return [...groups(shared).map((members): Planned => ({ _tag: "Shared", members })), ...alone]
}
