import * as Result from "effect/Result"
import { assert, describe, it } from "vitest"
import acceptance from "../../../events/jam-task1.json" with { type: "json" }
import * as Events from "../src/Events.js"
import * as StreamRecord from "../src/StreamRecord.js"

const decodeOk = (raw: unknown) => {
  const result = StreamRecord.decode(raw)
  if (Result.isFailure(result)) assert.fail(`expected a decoded record, got: ${result.failure.reason}`)
  return result.success
}

const decodeErr = (raw: unknown) => {
  const result = StreamRecord.decode(raw)
  if (Result.isSuccess(result)) assert.fail(`expected a MalformedRecord, got ${JSON.stringify(result.success)}`)
  return result.failure
}

const withImage = (image: Record<string, unknown>, sequenceNumber = "111111111111111111111") => ({
  eventName: "INSERT",
  eventSource: "aws:dynamodb",
  dynamodb: { NewImage: image, SequenceNumber: sequenceNumber }
})

describe("StreamRecord.decode", () => {
  it("reads the Jam's acceptance event: TnValue in Keys, no NewImage, no TnNum, no SequenceNumber", () => {
    assert.deepStrictEqual(decodeOk(acceptance.Records[0]), {
      _tag: "Insert",
      transaction: { custId: "task1test1record", tnNum: undefined, tnValue: 250, sequenceNumber: undefined }
    } as StreamRecord.Change)
  })

  it("reads an INSERT from a NEW_IMAGE stream, TnNum as canonical text", () => {
    const record = Events.insert({ custId: "c-1", tnNum: "0042", tnValue: 75, sequenceNumber: Events.sequenceNumber(7) })
    assert.deepStrictEqual(decodeOk(record), {
      _tag: "Insert",
      transaction: { custId: "c-1", tnNum: "42", tnValue: 75, sequenceNumber: "100000000000000000007" }
    } as StreamRecord.Change)
  })

  it("prefers NewImage over Keys", () => {
    const record = { ...withImage({ CustID: { S: "new" }, TnValue: { N: "5" } }) }
    const merged = { ...record, dynamodb: { ...record.dynamodb, Keys: { CustID: { S: "old" }, TnValue: { N: "9" } } } }
    const change = decodeOk(merged)
    assert.strictEqual(change._tag === "Insert" ? change.transaction.custId : undefined, "new")
  })

  it("skips MODIFY and REMOVE without reading their images", () => {
    assert.deepStrictEqual(decodeOk({ eventName: "MODIFY", dynamodb: { SequenceNumber: "5" } }), {
      _tag: "Skipped",
      eventName: "MODIFY",
      sequenceNumber: "5"
    })
    assert.strictEqual(decodeOk({ eventName: "REMOVE", dynamodb: {} })._tag, "Skipped")
  })

  const cases: ReadonlyArray<readonly [string, unknown, string, string]> = [
    ["a float", withImage({ CustID: { S: "c" }, TnValue: { N: "12.5" } }), "TnValue.N", "whole number"],
    ["NaN", withImage({ CustID: { S: "c" }, TnValue: { N: "NaN" } }), "TnValue.N", "whole number"],
    ["text", withImage({ CustID: { S: "c" }, TnValue: { N: "twelve" } }), "TnValue.N", "whole number"],
    ["Infinity", withImage({ CustID: { S: "c" }, TnValue: { N: "Infinity" } }), "TnValue.N", "whole number"],
    ["a number past 2^53", withImage({ CustID: { S: "c" }, TnValue: { N: "9007199254740993" } }), "TnValue.N", "too large"],
    ["a negative value", withImage({ CustID: { S: "c" }, TnValue: { N: "-5" } }), "TnValue.N", "negative"],
    ["TnValue as a string attribute", withImage({ CustID: { S: "c" }, TnValue: { S: "12" } }), "TnValue.N", "missing"],
    ["no TnValue", withImage({ CustID: { S: "c" } }), "TnValue", "missing"],
    ["no CustID", withImage({ TnValue: { N: "1" } }), "CustID", "missing"],
    ["an empty CustID", withImage({ CustID: { S: "" }, TnValue: { N: "1" } }), "CustID.S", "non-empty"],
    ["CustID as a number", withImage({ CustID: { N: "7" }, TnValue: { N: "1" } }), "CustID.S", "missing"],
    ["a CustID past 2,048 UTF-8 bytes", withImage({ CustID: { S: "é".repeat(1025) }, TnValue: { N: "1" } }), "CustID.S", "2048 bytes"],
    ["a TnNum past 38 digits", withImage({ CustID: { S: "c" }, TnNum: { N: "1".repeat(39) }, TnValue: { N: "1" } }), "TnNum.N", "38 significant digits"],
    ["a TnNum that is not an integer", withImage({ CustID: { S: "c" }, TnNum: { N: "1.5" }, TnValue: { N: "1" } }), "TnNum.N", "integer"],
    ["an unknown eventSource", { ...withImage({ CustID: { S: "c" }, TnValue: { N: "1" } }), eventSource: "aws:sqs" }, "eventSource", ""],
    ["an unknown eventName", { eventName: "UPSERT", dynamodb: {} }, "eventName", ""],
    ["no dynamodb section", { eventName: "INSERT" }, "dynamodb", "missing"],
    ["a SequenceNumber that is not digits", withImage({ CustID: { S: "c" }, TnValue: { N: "1" } }, "12ab"), "dynamodb.SequenceNumber", "digits"],
    ["null", null, "(record)", ""],
    ["a string", "INSERT", "(record)", ""]
  ]

  for (const [name, raw, field, words] of cases) {
    it(`rejects ${name}, naming the field`, () => {
      const error = decodeErr(raw)
      assert.strictEqual(error._tag, "MalformedRecord")
      assert.strictEqual(error.field, field)
      assert.include(error.reason, field)
      assert.include(error.reason, words)
    })
  }

  const quoted: ReadonlyArray<readonly [string, unknown, string]> = [
    ["a Kinesis record", { eventName: "aws:kinesis:record", dynamodb: {} }, 'eventName: expected INSERT | MODIFY | REMOVE, got "aws:kinesis:record"'],
    ["an eventName that is a number", { eventName: 5, dynamodb: {} }, "eventName: expected INSERT | MODIFY | REMOVE, got 5"],
    ["an SQS record", { ...withImage({ CustID: { S: "c" }, TnValue: { N: "1" } }), eventSource: "aws:sqs" }, 'eventSource: expected aws:dynamodb, got "aws:sqs"'],
    ["a float in NewImage", withImage({ CustID: { S: "c" }, TnValue: { N: "12.5" } }), 'TnValue.N: must be a whole number of dollars, got "12.5"'],
    ["TnValue as a string attribute", withImage({ CustID: { S: "c" }, TnValue: { S: "12" } }), "TnValue.N: is missing"],
    ["null", null, "(record): expected object, got null"],
    ["a 1 KB CustID", withImage({ CustID: { S: "x".repeat(3000) }, TnValue: { N: "1" } }), `CustID.S: must be at most 2048 bytes, DynamoDB's limit for a key, got "${"x".repeat(63)}… (3002 characters)`]
  ]
  for (const [name, raw, reason] of quoted) {
    it(`names the value it got for ${name}`, () => {
      assert.strictEqual(decodeErr(raw).reason, reason)
    })
  }

  it("names the stream a record came from, so the quarantine can key it by stream and sequence number", () => {
    const arn = "arn:aws:dynamodb:us-east-1:123456789012:table/CustTransactions/stream/2026-01-01T00:00:00.000"
    const error = decodeErr({ ...withImage({ CustID: { S: "c" }, TnValue: { N: "x" } }, "222"), eventSourceARN: arn })
    assert.strictEqual(error.streamArn, arn)
    assert.deepStrictEqual(StreamRecord.identify({ eventSourceARN: arn, dynamodb: { SequenceNumber: "222", Keys: { CustID: { S: "c" }, TnNum: { N: "7" } } } }), {
      sequenceNumber: "222",
      streamArn: arn,
      eventId: undefined,
      custId: "c",
      tnNum: "7"
    })
  })

  it("accepts the longest key and number DynamoDB holds", () => {
    const custId = "é".repeat(1024)
    const tnNum = `${"9".repeat(38)}${"0".repeat(80)}`
    const change = decodeOk(withImage({ CustID: { S: custId }, TnNum: { N: tnNum }, TnValue: { N: "1" } }))
    assert.deepStrictEqual(change._tag === "Insert" ? [change.transaction.custId, change.transaction.tnNum] : [], [custId, tnNum])
  })

  it("names the record of a malformed INSERT by sequence number, customer and transaction", () => {
    const error = decodeErr(withImage({ CustID: { S: "c-9" }, TnNum: { N: "77" }, TnValue: { N: "1.5" } }, "123456789012345678901"))
    assert.strictEqual(error.sequenceNumber, "123456789012345678901")
    assert.strictEqual(error.custId, "c-9")
    assert.strictEqual(error.tnNum, "77")
    assert.include(error.message, "123456789012345678901")
  })
})
