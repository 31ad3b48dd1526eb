import * as Effect from "effect/Effect"
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, assert, describe, it } from "vitest"
import * as OnFailure from "../src/local/OnFailure.js"

const root = mkdtempSync(join(tmpdir(), "on-failure-test-"))
afterAll(() => rmSync(root, { recursive: true, force: true }))

const entry: OnFailure.Entry = {
  requestContext: { requestId: "r-1", condition: "RetryAttemptsExhausted", approximateInvokeCount: 3 },
  responseContext: { statusCode: 200, executedVersion: "$LATEST", functionError: "Unhandled" },
  version: "1.0",
  timestamp: "2026-01-01T00:00:00.000Z",
  DDBStreamBatchInfo: {
    shardId: "shardId-1",
    startSequenceNumber: "000000000000000000007",
    endSequenceNumber: "000000000000000000007",
    approximateArrivalOfFirstRecord: OnFailure.arrival(1767225600),
    approximateArrivalOfLastRecord: OnFailure.arrival(1767225600),
    batchSize: 1,
    streamArn: "arn:aws:dynamodb:ddblocal:000000000000:table/t/stream/x"
  },
  payload: { Records: [{ eventName: "INSERT", dynamodb: { SequenceNumber: "000000000000000000007" } }] }
}

describe("OnFailure", () => {
  it("appends one line per entry, with the records as an escaped JSON payload, and lists them back", async () => {
    const file = join(root, "nested", "on-failure.jsonl")
    assert.deepStrictEqual(await Effect.runPromise(OnFailure.list(file)), [])
    await Effect.runPromise(OnFailure.append(file, entry))
    await Effect.runPromise(OnFailure.append(file, { ...entry, requestContext: { ...entry.requestContext, requestId: "r-2" } }))
    const lines = readFileSync(file, "utf8").trimEnd().split("\n")
    assert.strictEqual(lines.length, 2)
    assert.strictEqual(JSON.parse(lines[0] ?? "").payload, JSON.stringify(entry.payload))
    assert.strictEqual(entry.DDBStreamBatchInfo.approximateArrivalOfFirstRecord, "2026-01-01T00:00:00Z")
    const listed = await Effect.runPromise(OnFailure.list(file))
    assert.deepStrictEqual(listed.map((e) => e.requestContext.requestId), ["r-1", "r-2"])
    assert.deepStrictEqual(listed[0], entry)
  })

  it("names the line it cannot read", async () => {
    const file = join(root, "broken.jsonl")
    await Effect.runPromise(OnFailure.append(file, entry))
    appendFileSync(file, "{not json}\n")
    const error = await Effect.runPromise(Effect.flip(OnFailure.list(file)))
    assert.include(error.message, "line 2 is not an entry")
  })
})
