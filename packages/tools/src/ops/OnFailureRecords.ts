/**
 * The batches Lambda gave up on, read back from the on-failure bucket: one object per batch, Lambda's
 * invocation record with the whole invocation event in `payload`. Gives the stream records in them, each
 * with the object it came from, for a replay; an object that is not such a record is named, never skipped.
 */
import { GetObjectCommand, paginateListObjectsV2 } from "@aws-sdk/client-s3"
import * as Issue from "@dyna/core/Issue"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import * as Retry from "@dyna/aws/Retry"
import { S3, type S3Error } from "../clients/S3.js"

/** The invocation event, as the function would have received it. */
const Payload = Schema.Struct({ Records: Schema.Array(Schema.Unknown) })

/**
 * What Lambda writes to an S3 on-failure destination for a DynamoDB stream (the Lambda guide, "Retain
 * discarded records for a DynamoDB event source"): the metadata SQS and SNS get, plus `payload`, the
 * invocation event as an escaped JSON string. Only what a replay relies on is required; an object given
 * directly in `payload` is taken too.
 */
export const InvocationRecord = Schema.Struct({
  requestContext: Schema.Struct({
    requestId: Schema.optional(Schema.String),
    functionArn: Schema.optional(Schema.String),
    /** `RetryAttemptsExhausted` or `RecordAgeExceeded`. */
    condition: Schema.String,
    approximateInvokeCount: Schema.optional(Schema.Number)
  }),
  responseContext: Schema.optional(Schema.Struct({
    statusCode: Schema.optional(Schema.Number),
    executedVersion: Schema.optional(Schema.String),
    functionError: Schema.optional(Schema.String)
  })),
  timestamp: Schema.optional(Schema.String),
  DDBStreamBatchInfo: Schema.Struct({
    shardId: Schema.String,
    startSequenceNumber: Schema.String,
    endSequenceNumber: Schema.String,
    batchSize: Schema.Number,
    streamArn: Schema.String
  }),
  payload: Schema.Union([Schema.fromJsonString(Payload), Payload])
})
export type InvocationRecord = typeof InvocationRecord.Type

const decodeObject = Schema.decodeUnknownResult(Schema.fromJsonString(InvocationRecord))

/** One stream record of a given-up batch, and the object it was read from (`s3://bucket/key`). */
export interface Found {
  readonly source: string
  readonly record: unknown
}

/** An object of the bucket that is not an invocation record: which one, and what is wrong with it. */
export interface Unreadable {
  readonly source: string
  readonly reason: string
}

export interface OnFailureRecords {
  /** Every stream record of every given-up batch, in key order, records in batch order. */
  readonly records: ReadonlyArray<Found>
  /** How many objects (batches) were read. */
  readonly batches: number
  readonly unreadable: ReadonlyArray<Unreadable>
}

/** The records in one object's text, or why there are none. */
export const decode = (source: string, text: string): Result.Result<ReadonlyArray<Found>, Unreadable> =>
  decodeObject(text).pipe(
    Result.map((r) => r.payload.Records.map((record) => ({ source, record }))),
    Result.mapError((error) => {
      const { field, message } = Issue.first(error.issue)
      return { source, reason: `not an invocation record: ${field === "(record)" ? message : `${field}: ${message}`}` }
    })
  )

/** Every key in the bucket (all pages), in S3's order. */
const keysOf = (bucket: string) =>
  Effect.gen(function*() {
    const s3 = yield* S3
    return yield* Retry.onTransient(s3.call("ListObjectsV2", async (client) => {
      const keys: Array<string> = []
      for await (const page of paginateListObjectsV2({ client }, { Bucket: bucket })) {
        for (const o of page.Contents ?? []) if (o.Key !== undefined) keys.push(o.Key)
      }
      return keys
    }))
  })

const textOf = (bucket: string, key: string) =>
  Effect.gen(function*() {
    const s3 = yield* S3
    return yield* Retry.onTransient(s3.call("GetObject", async (c) => {
      const out = await c.send(new GetObjectCommand({ Bucket: bucket, Key: key }))
      return out.Body === undefined ? "" : out.Body.transformToString("utf-8")
    }))
  })

/**
 * Reads every object of the on-failure bucket and gives the stream records of the batches in them.
 * An object that is not an invocation record is listed in `unreadable` with its reason; S3 failing to
 * list or read fails the whole read.
 */
export const read = (bucket: string): Effect.Effect<OnFailureRecords, S3Error, S3> =>
  Effect.gen(function*() {
    const keys = yield* keysOf(bucket)
    const decoded = yield* Effect.forEach(keys, (key) => textOf(bucket, key).pipe(Effect.map((text) => decode(`s3://${bucket}/${key}`, text))))
    return {
      records: decoded.flatMap((r) => (Result.isSuccess(r) ? r.success : [])),
      batches: decoded.filter(Result.isSuccess).length,
      unreadable: decoded.flatMap((r) => (Result.isFailure(r) ? [r.failure] : []))
    }
  }).pipe(Effect.withSpan("OnFailureRecords.read"))
