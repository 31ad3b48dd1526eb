/**
 * A parallel Scan: the table split into `segments` that DynamoDB reads side by side, each page handed
 * to `onPage` as it arrives. What backfill, reconcile, the export and status read whole tables with.
 */
import { DescribeTableCommand, ScanCommand, type ScanCommandInput } from "@aws-sdk/client-dynamodb"
import * as Effect from "effect/Effect"
import { DynamoDb } from "@dyna/aws/DynamoDb"
import * as Pages from "@dyna/aws/Pages"
import * as Retry from "@dyna/aws/Retry"

/** One scanned item. */
export type Item = Pages.Item

export interface Options {
  /** How many segments to read at once (DynamoDB's `TotalSegments`); 1 is a plain Scan. */
  readonly segments?: number | undefined
  /** Strongly consistent pages: twice the read units. */
  readonly consistent?: boolean | undefined
  /** Further Scan parameters (a projection, a filter). */
  readonly input?: Omit<ScanCommandInput, "TableName" | "Segment" | "TotalSegments" | "ExclusiveStartKey" | "ConsistentRead"> | undefined
}

/**
 * Reads every item of `table`, calling `onPage` with each page's items (segments run concurrently, so
 * `onPage` may be called from several at once). Transient failures are retried page by page.
 */
export const forEachPage = <E, R>(table: string, onPage: (items: ReadonlyArray<Item>) => Effect.Effect<void, E, R>, options: Options = {}) =>
  Effect.gen(function*() {
    const db = yield* DynamoDb
    const segments = Math.max(1, Math.floor(options.segments ?? 1))
    const segment = (index: number) =>
      Pages.forEach((startKey) =>
        Retry.onTransient(db.call("Scan", (c) =>
          c.send(
            new ScanCommand({
              ...options.input,
              TableName: table,
              ConsistentRead: options.consistent ?? false,
              ExclusiveStartKey: startKey,
              ...(segments > 1 ? { Segment: index, TotalSegments: segments } : {})
            })
          ))), onPage)
    yield* Effect.forEach(Array.from({ length: segments }, (_, i) => i), segment, { concurrency: segments, discard: true })
  })

/** Every item of `table`, in one array: for tables small enough to hold (profiles, events). */
export const all = (table: string, options: Options = {}) =>
  Effect.gen(function*() {
    const items: Array<Item> = []
    yield* forEachPage(table, (page) => Effect.sync(() => void items.push(...page)), options)
    return items
  })

/**
 * The table's item count as DescribeTable reports it: exact on DynamoDB Local, refreshed only about
 * every six hours on AWS, so good for a progress bar's total and a status line, not for arithmetic.
 */
export const approximateCount = (table: string) =>
  Effect.gen(function*() {
    const db = yield* DynamoDb
    const out = yield* Retry.onTransient(db.call("DescribeTable", (c) => c.send(new DescribeTableCommand({ TableName: table }))))
    return out.Table?.ItemCount
  })
