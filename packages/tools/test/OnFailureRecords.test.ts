/**
 * Reading the given-up batches back from the on-failure bucket (a pretend S3, listings two to a page):
 * the stream records of every object, with the object they came from; an object that is not an
 * invocation record is named with its reason, not dropped.
 */
import * as Effect from "effect/Effect"
import { assert, beforeEach, describe, it } from "vitest"
import * as OnFailureRecords from "../src/ops/OnFailureRecords.js"
import * as FakeS3 from "./support/FakeS3.js"

const bucket = "dyna-elite-on-failure-123456789012-eu-west-1"
const streamArn = "arn:aws:dynamodb:eu-west-1:123456789012:table/CustTransactions/stream/2026-01-01T00:00:00.000"

const streamRecord = (sequenceNumber: string, custId: string) => ({
  eventID: `event-${sequenceNumber}`,
  eventName: "INSERT",
  eventSource: "aws:dynamodb",
  awsRegion: "eu-west-1",
  eventSourceARN: streamArn,
  dynamodb: {
    Keys: { CustID: { S: custId }, TnNum: { S: `tn-${sequenceNumber}` } },
    NewImage: { CustID: { S: custId }, TnNum: { S: `tn-${sequenceNumber}` }, TnValue: { N: "250" } },
    SequenceNumber: sequenceNumber,
    SizeBytes: 60,
    StreamViewType: "NEW_IMAGE"
  }
})

/** An invocation record as Lambda writes it to S3 for a DynamoDB stream: the event as an escaped JSON string. */
const invocationRecord = (records: ReadonlyArray<unknown>) =>
  JSON.stringify({
    requestContext: {
      requestId: "316aa6d0-8154-4b1e-9af7-85d5f4a6bc81",
      functionArn: "arn:aws:lambda:eu-west-1:123456789012:function:JAM_Lambda_Exec_Function_EDIT_THIS",
      condition: "RetryAttemptsExhausted",
      approximateInvokeCount: 11
    },
    responseContext: { statusCode: 200, executedVersion: "$LATEST", functionError: "Unhandled" },
    version: "1.0",
    timestamp: "2026-01-01T00:13:49.717Z",
    DDBStreamBatchInfo: {
      shardId: "shardId-00000001573689847184-864758bb",
      startSequenceNumber: "800000000003126276362",
      endSequenceNumber: "800000000003126276363",
      approximateArrivalOfFirstRecord: "2026-01-01T00:13:19Z",
      approximateArrivalOfLastRecord: "2026-01-01T00:13:19Z",
      batchSize: records.length,
      streamArn
    },
    payload: JSON.stringify({ Records: records })
  })

const key = (n: number) => `aws/lambda/0f8e1c2a-esm/shardId-00000001573689847184-864758bb/2026/01/01/2026-01-01T00.13.4${n}-uuid-${n}`
const read = () => Effect.runPromise(OnFailureRecords.read(bucket).pipe(Effect.provide(FakeS3.service)))

beforeEach(() => FakeS3.reset())

describe("OnFailureRecords.read", () => {
  it("gives every stream record of every batch, from every page, with the object it came from", async () => {
    const a = streamRecord("800000000003126276362", "C1")
    const b = streamRecord("800000000003126276363", "C2")
    const c = streamRecord("800000000003126276364", "C1")
    FakeS3.reset({
      buckets: [{
        name: bucket,
        objects: { [key(1)]: invocationRecord([a, b]), [key(2)]: invocationRecord([c]), [key(3)]: invocationRecord([]) }
      }]
    })
    const read_ = await read()
    assert.deepStrictEqual(read_, {
      records: [
        { source: `s3://${bucket}/${key(1)}`, record: a },
        { source: `s3://${bucket}/${key(1)}`, record: b },
        { source: `s3://${bucket}/${key(2)}`, record: c }
      ],
      batches: 3,
      unreadable: []
    })
    // Three objects at two a page: the second page was asked for.
    assert.deepStrictEqual(FakeS3.sent(), ["ListObjectsV2", "ListObjectsV2", "GetObject", "GetObject", "GetObject"])
  })

  it("names each object that is not an invocation record, with what is wrong, and keeps the rest", async () => {
    const good = streamRecord("800000000003126276362", "C1")
    const noPayload = JSON.stringify({ ...JSON.parse(invocationRecord([good])), payload: undefined })
    FakeS3.reset({
      buckets: [{
        name: bucket,
        objects: {
          [key(1)]: invocationRecord([good]),
          [key(2)]: "not json at all",
          [key(3)]: noPayload,
          [key(4)]: invocationRecord([]).replace(`\\"Records\\":[]`, `\\"Records\\":{}`)
        }
      }]
    })
    const result = await read()
    assert.deepStrictEqual(result.records, [{ source: `s3://${bucket}/${key(1)}`, record: good }])
    assert.strictEqual(result.batches, 1)
    assert.deepStrictEqual(result.unreadable.map((u) => u.source), [2, 3, 4].map((n) => `s3://${bucket}/${key(n)}`))
    assert.match(result.unreadable[1]?.reason ?? "", /^not an invocation record: payload: /)
    for (const u of result.unreadable) assert.match(u.reason, /^not an invocation record: /)
  })

  it("reads an empty bucket as no records", async () => {
    FakeS3.reset({ buckets: [{ name: bucket }] })
    assert.deepStrictEqual(await read(), { records: [], batches: 0, unreadable: [] })
  })

  it("fails, saying so, when the bucket is not there", async () => {
    const error = await Effect.runPromise(Effect.flip(OnFailureRecords.read(bucket).pipe(Effect.provide(FakeS3.service))))
    assert.strictEqual(error._tag, "S3Error")
    assert.strictEqual(error.kind, "NotFound")
    assert.strictEqual(error.operation, "ListObjectsV2")
  })
})
