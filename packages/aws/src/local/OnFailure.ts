/**
 * The local runner's on-failure destination: what it gives up on (retries exhausted, record too old),
 * one JSON line per discarded batch, in the shape of Lambda's invocation record for a DynamoDB stream
 * sent to an S3 destination: the metadata, plus the batch itself in `payload`, so nothing is lost.
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { appendFileSync, existsSync, mkdirSync, readFileSync } from "node:fs"
import { dirname } from "node:path"

/** Reading or appending to the on-failure file failed. */
export class OnFailureError extends Schema.TaggedError<OnFailureError>()("OnFailureError", {
  file: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `on-failure file ${this.file}: ${this.reason}`
  }
}

/** Why Lambda discarded a batch. */
export const Condition = Schema.Literals(["RetryAttemptsExhausted", "RecordAgeExceeded"])
export type Condition = typeof Condition.Type

/** The discarded batch's records, as the function would have received them (`{ Records }`). */
const Payload = Schema.Struct({ Records: Schema.Array(Schema.Unknown) })

/** One discarded batch. */
export const Entry = Schema.Struct({
  requestContext: Schema.Struct({
    /** The last invocation's id (a fresh one when the batch was never invoked). */
    requestId: Schema.String,
    functionArn: Schema.optional(Schema.String),
    condition: Condition,
    /** How many invocations included these records. */
    approximateInvokeCount: Schema.Number
  }),
  /** The last invocation's outcome; absent when the records were never invoked. */
  responseContext: Schema.optional(Schema.Struct({
    statusCode: Schema.Number,
    executedVersion: Schema.String,
    functionError: Schema.optional(Schema.String)
  })),
  version: Schema.Literal("1.0"),
  timestamp: Schema.String,
  DDBStreamBatchInfo: Schema.Struct({
    shardId: Schema.String,
    startSequenceNumber: Schema.String,
    endSequenceNumber: Schema.String,
    approximateArrivalOfFirstRecord: Schema.optional(Schema.String),
    approximateArrivalOfLastRecord: Schema.optional(Schema.String),
    batchSize: Schema.Number,
    streamArn: Schema.String
  }),
  /** As in the S3 destination's record: the invocation event, as an escaped JSON string. */
  payload: Schema.fromJsonString(Payload)
})
export type Entry = typeof Entry.Type

const Line = Schema.fromJsonString(Entry)
const encodeLine = Schema.encodeEffect(Line)
const decodeLine = Schema.decodeUnknownEffect(Line)

/** Epoch seconds as Lambda writes arrival times: ISO 8601 to the second. */
export const arrival = (epochSeconds: number): string => new Date(epochSeconds * 1000).toISOString().replace(/\.\d{3}Z$/, "Z")

const fail = (file: string, what: string) => (e: unknown) =>
  new OnFailureError({ file, reason: `${what} (${e instanceof Error ? e.message : String(e)})` })

/** Appends one entry as one line. */
export const append = (file: string, entry: Entry): Effect.Effect<void, OnFailureError> =>
  encodeLine(entry).pipe(
    Effect.mapError(fail(file, "the entry cannot be encoded")),
    Effect.flatMap((line) =>
      Effect.try({
        try: () => {
          mkdirSync(dirname(file), { recursive: true })
          appendFileSync(file, `${line}\n`)
        },
        catch: fail(file, "cannot be written")
      })
    )
  )

/** Every entry in the file, oldest first; a missing file holds none. */
export const list = (file: string): Effect.Effect<ReadonlyArray<Entry>, OnFailureError> =>
  Effect.gen(function*() {
    if (!existsSync(file)) return []
    const text = yield* Effect.try({ try: () => readFileSync(file, "utf8"), catch: fail(file, "cannot be read") })
    const lines = text.split("\n").filter((line) => line.trim() !== "")
    return yield* Effect.forEach(lines, (line, i) => decodeLine(line).pipe(Effect.mapError(fail(file, `line ${i + 1} is not an entry`))))
  })
