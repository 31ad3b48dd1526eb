/**
 * DynamoDB's paging, once: a Scan or Query answers a page at a time, and the next page starts where
 * the last one's `LastEvaluatedKey` says. Callers give the one call; this follows the keys.
 */
import type { AttributeValue } from "@aws-sdk/client-dynamodb"
import * as Effect from "effect/Effect"

/** One DynamoDB item, as Scan and Query return it. */
export type Item = Record<string, AttributeValue>

/** Where a page starts (`ExclusiveStartKey`): `undefined` for the first. */
export type StartKey = Item | undefined

/** What paging needs of a Scan or Query output: its items and where the next page would start. */
export interface Page {
  readonly Items?: ReadonlyArray<Item> | undefined
  readonly LastEvaluatedKey?: Item | undefined
}

/**
 * Calls `page` from the first page on, each time from the previous page's `LastEvaluatedKey`, until a
 * page has none; `onPage` gets each page's items, in order, before the next page is asked for.
 * `page` says its own retries (`Retry.onTransient`).
 */
export const forEach = <E, R, E2, R2>(
  page: (startKey: StartKey) => Effect.Effect<Page, E, R>,
  onPage: (items: ReadonlyArray<Item>) => Effect.Effect<void, E2, R2>
): Effect.Effect<void, E | E2, R | R2> =>
  Effect.gen(function*() {
    let startKey: StartKey
    do {
      const out = yield* page(startKey)
      yield* onPage(out.Items ?? [])
      startKey = out.LastEvaluatedKey
    } while (startKey !== undefined)
  })

/** Every item of every page, in order: for reads whose whole answer is held at once. */
export const all = <E, R>(page: (startKey: StartKey) => Effect.Effect<Page, E, R>): Effect.Effect<ReadonlyArray<Item>, E, R> =>
  Effect.gen(function*() {
    const items: Array<Item> = []
    yield* forEach(page, (found) => Effect.sync(() => void items.push(...found)))
    return items
  })
