/**
 * The handler's answer to Lambda: the records to deliver again, by sequence number.
 *
 * @since 0.1.0
 */
import type { DynamoDBBatchResponse } from "aws-lambda"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"

/**
 * A record failed for a passing reason but has no `SequenceNumber`, so it cannot be named in
 * `batchItemFailures`: the whole invocation must fail instead, or the record would be lost.
 *
 * @since 0.1.0
 * @category errors
 */
export class UnreportableFailure extends Schema.TaggedError<UnreportableFailure>()("UnreportableFailure", {
  records: Schema.Number
}) {
  override get message() {
    return `${this.records} failed record(s) have no SequenceNumber to report; failing the whole batch so it is delivered again`
  }
}

/**
 * Orders sequence numbers numerically: they are decimal strings of up to 40 digits, past what a
 * `number` holds exactly.
 *
 * @since 0.1.0
 * @category ordering
 */
export const compareSequenceNumbers = (a: string, b: string): number => {
  const x = BigInt(a)
  const y = BigInt(b)
  return x < y ? -1 : x > y ? 1 : 0
}

/**
 * The response for a batch in which the records with these sequence numbers failed transiently
 * (`undefined` for a record without one): each sequence number once, lowest first (Lambda resumes
 * from the lowest).
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromFailures = (
  failed: ReadonlyArray<string | undefined>
): Result.Result<DynamoDBBatchResponse, UnreportableFailure> => {
  const unnamed = failed.filter((s) => s === undefined).length
  if (unnamed > 0) return Result.fail(new UnreportableFailure({ records: unnamed }))
  const ids = [...new Set(failed.flatMap((s) => (s === undefined ? [] : [s])))]
  return Result.succeed({
    batchItemFailures: ids.sort(compareSequenceNumbers).map((itemIdentifier) => ({ itemIdentifier }))
  })
}
