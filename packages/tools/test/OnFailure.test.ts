import * as Effect from "effect/Effect"
import * as Logger from "effect/Logger"
import * as References from "effect/References"
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs"
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

const second: OnFailure.Entry = { ...entry, requestContext: { ...entry.requestContext, requestId: "r-2" } }

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

  it("fails naming the line that is JSON but not an entry, losing nothing else silently", async () => {
    const file = join(root, "broken.jsonl")
    await Effect.runPromise(OnFailure.append(file, entry))
    appendFileSync(file, "{\"version\":\"2.0\"}\n")
    const error = await Effect.runPromise(Effect.flip(OnFailure.list(file)))
    assert.include(error.message, "line 2 is not an entry")
  })

  it("skips a torn last line (a write cut short by a full disk) and names it, keeping every other entry", async () => {
    const file = join(root, "torn.jsonl")
    await Effect.runPromise(OnFailure.append(file, entry))
    await Effect.runPromise(OnFailure.append(file, second))
    const whole = readFileSync(file, "utf8")
    appendFileSync(file, whole.split("\n")[0]?.slice(0, 57) ?? "")
    const contents = await Effect.runPromise(OnFailure.read(file))
    assert.deepStrictEqual(contents.entries.map((e) => e.requestContext.requestId), ["r-1", "r-2"])
    assert.deepStrictEqual(contents.torn.map((t) => t.line), [3])
    assert.strictEqual(contents.torn[0]?.text.length, 57)
    assert.deepStrictEqual((await Effect.runPromise(OnFailure.list(file))).map((e) => e.requestContext.requestId), ["r-1", "r-2"])
  })

  it("logs the torn line it skips, with its number", async () => {
    const file = join(root, "torn-logged.jsonl")
    await Effect.runPromise(OnFailure.append(file, entry))
    appendFileSync(file, "{\"requestContext\":{\"requ")
    const logged: Array<unknown> = []
    const logger = Logger.make<unknown, void>((options) => {
      logged.push({ message: options.message, annotations: options.fiber.getRef(References.CurrentLogAnnotations) })
    })
    const entries = await Effect.runPromise(OnFailure.list(file).pipe(Effect.provide(Logger.layer([logger]))))
    assert.strictEqual(entries.length, 1)
    assert.strictEqual(logged.length, 1)
    assert.include(JSON.stringify(logged[0]), "\"line\":2")
  })

  it("starts the next entry on a line of its own after a torn one, so both survive a later read", async () => {
    const file = join(root, "torn-then-appended.jsonl")
    await Effect.runPromise(OnFailure.append(file, entry))
    appendFileSync(file, "{\"requestContext\":{\"requ")
    await Effect.runPromise(OnFailure.append(file, second))
    const lines = readFileSync(file, "utf8").split("\n")
    assert.strictEqual(lines.length, 4)
    assert.strictEqual(lines[1], "{\"requestContext\":{\"requ")
    assert.strictEqual(lines[3], "")
    const contents = await Effect.runPromise(OnFailure.read(file))
    assert.deepStrictEqual(contents.entries, [entry, second])
    assert.deepStrictEqual(contents.torn.map((t) => t.line), [2])
  })

  it("creates the file readable by its owner only: it holds the customers' records", async () => {
    const file = join(root, "private", "on-failure.jsonl")
    await Effect.runPromise(OnFailure.append(file, entry))
    assert.strictEqual(statSync(file).mode & 0o777, 0o600)
  })
})
