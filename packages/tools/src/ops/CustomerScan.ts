/**
 * A strongly consistent parallel Scan of CustTransactions, handed over a customer at a time: each
 * customer's rows together, once the segment has read past the last of them.
 */
import { ScanCommand } from "@aws-sdk/client-dynamodb"
import * as Effect from "effect/Effect"
import { DynamoDb } from "@dyna/aws/DynamoDb"
import * as Pages from "@dyna/aws/Pages"
import * as Retry from "@dyna/aws/Retry"

/**
 * One customer's rows as a segment read them, in order: all of them when `complete`. `custId` is the
 * rows' `CustID` string, `undefined` for rows without one (each such row is a run of its own).
 */
export interface Run {
  readonly custId: string | undefined
  readonly items: ReadonlyArray<Pages.Item>
}

/** What one page leaves: the runs it finished, and the run still open at its end (more may follow on the next page). */
export interface Split {
  readonly complete: ReadonlyArray<Run>
  readonly open: Run | undefined
}

const custIdOf = (item: Pages.Item): string | undefined => item["CustID"]?.S

/**
 * Cuts a segment's next page into runs of one customer, continuing `open` (the run the previous page
 * ended in). A run is complete once a row of another customer follows it in the same segment: one
 * partition key's items are stored, and scanned, together, so none of its rows comes later.
 */
export const split = (open: Run | undefined, items: ReadonlyArray<Pages.Item>): Split => {
  const complete: Array<Run> = []
  let custId = open?.custId
  let run: Array<Pages.Item> = open === undefined ? [] : [...open.items]
  for (const item of items) {
    const next = custIdOf(item)
    if (run.length > 0 && (next !== custId || next === undefined)) {
      complete.push({ custId, items: run })
      run = []
    }
    custId = next
    run.push(item)
  }
  return { complete, open: run.length === 0 ? undefined : { custId, items: run } }
}

/**
 * Reads every row of `table` with `segments` consistent Scans side by side, calling `onRun` with each
 * customer's complete run as soon as its segment has read past it (segments run concurrently, so
 * `onRun` may be called from several at once). Each page is strongly consistent: a run holds every row
 * its customer had when the run's first page was read. Transient failures are retried page by page.
 */
export const forEachRun = <E, R>(table: string, onRun: (run: Run) => Effect.Effect<void, E, R>, segments: number) =>
  Effect.gen(function*() {
    const db = yield* DynamoDb
    const total = Math.max(1, Math.floor(segments))
    const segment = (index: number) =>
      Effect.gen(function*() {
        let open: Run | undefined
        yield* Pages.forEach((startKey) =>
          Retry.onTransient(db.call("Scan", (c) =>
            c.send(
              new ScanCommand({
                TableName: table,
                ConsistentRead: true,
                ExclusiveStartKey: startKey,
                ...(total > 1 ? { Segment: index, TotalSegments: total } : {})
              })
            ))), (items) =>
          Effect.gen(function*() {
            const cut = split(open, items)
            open = cut.open
            yield* Effect.forEach(cut.complete, onRun, { discard: true })
          }))
        // The segment is read to its end: its last run is complete too.
        if (open !== undefined) yield* onRun(open)
      })
    yield* Effect.forEach(Array.from({ length: total }, (_, i) => i), segment, { concurrency: total, discard: true })
  })
