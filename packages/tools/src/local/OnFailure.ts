/**
 * The local runner's on-failure destination: what it gives up on (retries exhausted, record too old),
 * one JSON line per discarded batch, in the shape of Lambda's invocation record for a DynamoDB stream
 * sent to an S3 destination: the metadata, plus the batch itself in `payload`, so nothing is lost.
 * A write cut short (a full disk) leaves a torn last line: the reader skips and names it, keeping every
 * other entry, and the next append starts on a new line rather than gluing itself to the torn one.
 */
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readFileSync, readSync, writeFileSync } from "node:fs"
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

const parseJson = Schema.decodeUnknownResult(Schema.fromJsonString(Schema.Unknown))
const isJson = (line: string): boolean => Result.isSuccess(parseJson(line))

// Whether the file is empty or ends with a newline: otherwise its last line was torn and the next one must
// start on a line of its own.
const endsWithNewline = (fd: number): boolean => {
  const size = fstatSync(fd).size
  if (size === 0) return true
  const last = Buffer.alloc(1)
  readSync(fd, last, 0, 1, size - 1)
  return last[0] === 0x0a
}

/**
 * Appends one entry as one line, in a single write. A file that does not end with a newline (a torn
 * last line) gets one first, so the new entry stays whole. The file is created readable by its owner only:
 * it holds the customers' records.
 */
export const append = (file: string, entry: Entry): Effect.Effect<void, OnFailureError> =>
  encodeLine(entry).pipe(
    Effect.mapError(fail(file, "the entry cannot be encoded")),
    Effect.flatMap((line) =>
      Effect.try({
        try: () => {
          mkdirSync(dirname(file), { recursive: true })
          const fd = openSync(file, "a+", 0o600)
          try {
            writeFileSync(fd, `${endsWithNewline(fd) ? "" : "\n"}${line}\n`)
          } finally {
            closeSync(fd)
          }
        },
        catch: fail(file, "cannot be written")
      })
    )
  )

/** A line that is not JSON at all: what a write cut short leaves. `line` counts from 1. */
export interface Torn {
  readonly line: number
  readonly text: string
}

/** What the file holds: every entry, oldest first, and the torn lines that were skipped. */
export interface Contents {
  readonly entries: ReadonlyArray<Entry>
  readonly torn: ReadonlyArray<Torn>
}

/**
 * Every entry in the file, oldest first, and the torn lines skipped on the way; a missing file holds
 * none. A line that is not JSON is torn (a write cut short, followed or not by later appends) and is
 * skipped; a line that is JSON but not an entry is a different file or a different format, and fails
 * naming its line.
 */
export const read = (file: string): Effect.Effect<Contents, OnFailureError> =>
  Effect.gen(function*() {
    if (!existsSync(file)) return { entries: [], torn: [] }
    const text = yield* Effect.try({ try: () => readFileSync(file, "utf8"), catch: fail(file, "cannot be read") })
    const lines = text.split("\n").map((line, i) => ({ line: i + 1, text: line })).filter((l) => l.text.trim() !== "")
    const torn = lines.filter((l) => !isJson(l.text))
    const entries = yield* Effect.forEach(
      lines.filter((l) => isJson(l.text)),
      (l) => decodeLine(l.text).pipe(Effect.mapError(fail(file, `line ${l.line} is not an entry`)))
    )
    return { entries, torn }
  })

/** Every entry in the file, oldest first (see {@link read}); each torn line skipped is logged with its number. */
export const list = (file: string): Effect.Effect<ReadonlyArray<Entry>, OnFailureError> =>
  read(file).pipe(
    Effect.tap(({ torn }) =>
      Effect.forEach(torn, (t) =>
        Effect.logWarning("on-failure line torn, skipped").pipe(
          Effect.annotateLogs({ file, line: t.line, text: t.text.length > 80 ? `${t.text.slice(0, 80)}…` : t.text })
        ), { discard: true })
    ),
    Effect.map(({ entries }) => entries)
  )
