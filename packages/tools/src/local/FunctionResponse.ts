/**
 * What the function returned to the runner, decoded as Lambda reads a stream function's response with
 * `ReportBatchItemFailures`: success, a failure from one record on, or the whole batch failed. (The
 * handler's side, building that response, is core's `BatchResult`.)
 */
import { compareSequenceNumbers } from "@dyna/core/BatchResult"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"

/** How a returned (not thrown) response settles a batch. */
export type Verdict =
  /** Every record is done. */
  | { readonly _tag: "Success" }
  /** The record at `index` (the lowest failed sequence number) and all after it are to be delivered again. */
  | { readonly _tag: "FailedFrom"; readonly index: number }
  /** The response cannot be read as a list of failed records: the whole batch failed. */
  | { readonly _tag: "BatchFailed"; readonly reason: string }

const success: Verdict = { _tag: "Success" }

const Response = Schema.Struct({
  batchItemFailures: Schema.optional(Schema.NullOr(Schema.Array(Schema.Unknown)))
})
const Failure = Schema.Struct({ itemIdentifier: Schema.String })
const decodeResponse = Schema.decodeUnknownResult(Response)
const decodeFailure = Schema.decodeUnknownResult(Failure)

/**
 * The verdict on a response to a batch whose records have these sequence numbers, in order. Without
 * `ReportBatchItemFailures` the response is ignored. With it, Lambda's documented rules apply:
 * no response, an empty response, or an absent, null or empty `batchItemFailures` is success; an
 * `itemIdentifier` that is missing, null, empty, or names no record of the batch fails the whole batch.
 */
export const verdict = (
  response: unknown,
  sequenceNumbers: ReadonlyArray<string>,
  reportBatchItemFailures: boolean
): Verdict => {
  if (!reportBatchItemFailures || response === undefined || response === null) return success
  const decoded = decodeResponse(response)
  if (Result.isFailure(decoded)) return { _tag: "BatchFailed", reason: `unreadable response (${decoded.failure.message})` }
  const failures = decoded.success.batchItemFailures ?? []
  let lowest: number | undefined
  for (const item of failures) {
    const failure = decodeFailure(item)
    if (Result.isFailure(failure)) return { _tag: "BatchFailed", reason: `batchItemFailures holds ${JSON.stringify(item)}` }
    const id = failure.success.itemIdentifier
    const index = sequenceNumbers.indexOf(id)
    if (id === "" || index < 0) return { _tag: "BatchFailed", reason: `itemIdentifier "${id}" names no record of the batch` }
    const current = lowest === undefined ? undefined : sequenceNumbers[lowest]
    if (current === undefined || compareSequenceNumbers(id, current) < 0) lowest = index
  }
  return lowest === undefined ? success : { _tag: "FailedFrom", index: lowest }
}
