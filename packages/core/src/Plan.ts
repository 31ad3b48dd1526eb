/**
 * Batch planning: a stream batch's INSERTs grouped per customer in stream order, so that each customer
 * costs one profile write per batch, with in-batch repeats set apart.
 *
 * @since 0.1.0
 */
import type { Change, Skipped } from "./StreamRecord.js"
import { type CustomerId, guardKey, type Transaction } from "./Transaction.js"

/**
 * One customer's share of a batch.
 *
 * @since 0.1.0
 * @category models
 */
export interface CustomerPlan {
  readonly custId: CustomerId
  /** To count, in stream order, each guard key once. */
  readonly transactions: ReadonlyArray<Transaction>
  /** Later copies of a transaction already in `transactions` (same guard key in the same batch). */
  readonly repeats: ReadonlyArray<Transaction>
}

/**
 * @since 0.1.0
 * @category models
 */
export interface BatchPlan {
  readonly customers: ReadonlyArray<CustomerPlan>
  readonly skipped: ReadonlyArray<Skipped>
}

/**
 * Plans a batch of decoded records: keeps INSERTs, groups them by customer in order of first
 * appearance, and drops repeats of the same transaction inside the batch.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (changes: ReadonlyArray<Change>): BatchPlan => {
  const groups = new Map<CustomerId, { transactions: Array<Transaction>; repeats: Array<Transaction>; seen: Set<string> }>()
  const skipped: Array<Skipped> = []
  for (const change of changes) {
    if (change._tag === "Skipped") {
      skipped.push(change)
      continue
    }
    const tx = change.transaction
    let group = groups.get(tx.custId)
    if (group === undefined) {
      group = { transactions: [], repeats: [], seen: new Set() }
      groups.set(tx.custId, group)
    }
    const key = guardKey(tx)
    if (key !== undefined && group.seen.has(key)) {
      group.repeats.push(tx)
    } else {
      if (key !== undefined) group.seen.add(key)
      group.transactions.push(tx)
    }
  }
  return {
    customers: Array.from(groups, ([custId, g]) => ({ custId, transactions: g.transactions, repeats: g.repeats })),
    skipped
  }
}
