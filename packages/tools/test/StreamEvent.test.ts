import type { _Record } from "@aws-sdk/client-dynamodb-streams"
import { assert, describe, it } from "vitest"
import * as StreamEvent from "../src/local/StreamEvent.js"

const arn = "arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/2026-01-01T00:00:00.000"

describe("StreamEvent.lambdaRecord", () => {
  it("turns the SDK's record into the JSON Lambda sends: epoch seconds, base64 binary, the stream's ARN", () => {
    const sdk: _Record = {
      eventID: "e-1",
      eventName: "INSERT",
      eventVersion: "1.1",
      eventSource: "aws:dynamodb",
      awsRegion: "us-east-1",
      dynamodb: {
        ApproximateCreationDateTime: new Date("2026-01-02T03:04:05.678Z"),
        Keys: { CustID: { S: "c-1" } },
        NewImage: {
          CustID: { S: "c-1" },
          Blob: { B: new Uint8Array([1, 2, 3]) },
          Tags: { L: [{ N: "1" }, { NULL: true }, { M: { ok: { BOOL: false } } }] },
          Bins: { BS: [new Uint8Array([255])] }
        },
        SequenceNumber: "000000000000000000042",
        SizeBytes: 20,
        StreamViewType: "NEW_IMAGE"
      }
    }
    assert.deepStrictEqual(StreamEvent.lambdaRecord(sdk, arn), {
      eventID: "e-1",
      eventName: "INSERT",
      eventVersion: "1.1",
      eventSource: "aws:dynamodb",
      awsRegion: "us-east-1",
      dynamodb: {
        ApproximateCreationDateTime: 1767323045,
        Keys: { CustID: { S: "c-1" } },
        NewImage: {
          CustID: { S: "c-1" },
          Blob: { B: "AQID" },
          Tags: { L: [{ N: "1" }, { NULL: true }, { M: { ok: { BOOL: false } } }] },
          Bins: { BS: ["/w=="] }
        },
        SequenceNumber: "000000000000000000042",
        SizeBytes: 20,
        StreamViewType: "NEW_IMAGE"
      },
      eventSourceARN: arn
    })
  })

  it("leaves absent fields absent", () => {
    assert.deepStrictEqual(StreamEvent.lambdaRecord({ eventName: "REMOVE", dynamodb: { SequenceNumber: "1" } }, arn), {
      eventName: "REMOVE",
      eventSource: "aws:dynamodb",
      dynamodb: { SequenceNumber: "1" },
      eventSourceARN: arn
    })
  })
})
