import { UpdateItemCommand } from "@aws-sdk/client-dynamodb"
import * as Events from "@dyna/core/Events"
import * as Effect from "effect/Effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, assert, describe, it } from "vitest"
import * as OnFailure from "../src/local/OnFailure.js"
import * as Replay from "../src/ops/Replay.js"
import { Quarantine } from "@dyna/aws/Quarantine"
import * as DynamoLocal from "../../aws/test/support/DynamoLocal.js"

const ctx = DynamoLocal.useHandler()
const dir = mkdtempSync(join(tmpdir(), "dyna-replay-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const STREAM = "arn:aws:dynamodb:us-east-1:123456789012:table/CustTransactions/stream/2026-01-01T00:00:00.000"

/** An INSERT as the stream delivers it, with its stream named. */
const insert = (custId: string, tnNum: number, tnValue: number | string) => ({
  ...Events.insert({ custId, tnNum, tnValue, sequenceNumber: DynamoLocal.nextSequenceNumber() }),
  eventSourceARN: STREAM
})

const given = (records: ReadonlyArray<unknown>): Replay.Source => Effect.succeed(records.map((record, i) => ({ source: `test entry ${i + 1}`, record })))

const replay = <E>(sources: ReadonlyArray<Replay.Source<E>>, dryRun = false) =>
  DynamoLocal.run(ctx.names, Replay.run({ sources, dryRun }))

const listed = () => DynamoLocal.run(ctx.names, Effect.gen(function*() {
  return yield* (yield* Quarantine).list()
}))

/** The lines of the records a test gave (the tests share one quarantine). */
const givenLines = (report: Replay.Report) => report.lines.filter((l) => l.source !== "quarantine")

const total = async (custId: string) => (await DynamoLocal.profileRow(ctx.names, custId))?.TotalTnValue

/** What 25 hours do to a profile: its applied log forgets every key. */
const forget = (custId: string) =>
  DynamoLocal.client().send(new UpdateItemCommand({
    TableName: ctx.names.profiles,
    Key: { CustID: { S: custId } },
    UpdateExpression: "SET AppliedTn = :empty",
    ExpressionAttributeValues: { ":empty": { M: {} } }
  }))

const outcomes = (report: Replay.Report) => report.lines.map((l) => [l.custId, l.tnNum, l.outcome._tag])

describe("pnpm replay's program", () => {
  it("counts a given-up batch once even when part of it was applied more than 25 hours ago", async () => {
    const records = [insert("old-a", 1, 100), insert("old-a", 2, 200), insert("old-a", 3, 400)]
    await DynamoLocal.putRows(DynamoLocal.client(), ctx.names.transactions, [1, 2, 3].map((tnNum, i) => ({ custId: "old-a", tnNum, tnValue: [100, 200, 400][i] ?? 0 })))
    // The first two were counted before the batch's retries ran out; the third never was.
    await ctx.live.handler({ Records: records.slice(0, 2) } as Parameters<typeof ctx.live.handler>[0])
    assert.strictEqual(await total("old-a"), 300)
    await forget("old-a")

    const report = await replay([given(records)])
    assert.deepStrictEqual(outcomes({ ...report, lines: givenLines(report) }), [["old-a", "1", "Replayed"], ["old-a", "2", "Replayed"], ["old-a", "3", "Replayed"]])
    assert.deepStrictEqual(report.customers, [{ custId: "old-a", before: 300, after: 700, written: true }])
    assert.strictEqual(await total("old-a"), 700)

    // Safe to run twice: the second run finds the total equal to the rows and counts nothing.
    const again = await replay([given(records)])
    assert.deepStrictEqual(again.customers.map((c) => [c.before, c.after]), [[700, 700]])
    assert.strictEqual(await total("old-a"), 700)
    // And the stream delivering the batch again counts nothing either.
    await ctx.live.handler({ Records: records } as Parameters<typeof ctx.live.handler>[0])
    assert.strictEqual(await total("old-a"), 700)
  })

  it("keeps a quarantined record while its row is malformed, with the row's reason, and replays it once the row is fixed", async () => {
    await DynamoLocal.putItem(ctx.names.transactions, { CustID: { S: "fix-a" }, TnNum: { N: "1" }, TnValue: { N: "12.5" } })
    await DynamoLocal.putRows(DynamoLocal.client(), ctx.names.transactions, [{ custId: "fix-a", tnNum: 2, tnValue: 30 }])
    const bad = insert("fix-a", 1, "12.5")
    await ctx.live.handler({ Records: [bad, insert("fix-a", 2, 30)] } as Parameters<typeof ctx.live.handler>[0])
    assert.strictEqual(await total("fix-a"), 30)
    const [before] = (await listed()).filter((r) => r.custId === "fix-a")
    assert.strictEqual(before?.recordId, `${STREAM}#${bad.dynamodb?.SequenceNumber}`)

    const still = await replay([])
    const line = still.lines.find((l) => l.custId === "fix-a")
    assert.deepStrictEqual(line?.outcome, {
      _tag: "Kept",
      field: "CustTransactions.TnValue.N",
      reason: "CustTransactions row fix-a/1 cannot be counted: TnValue.N must be a whole number of dollars"
    })
    const [stays] = (await listed()).filter((r) => r.custId === "fix-a")
    assert.deepStrictEqual([stays?.recordId, stays?.field, stays?.reason], [before?.recordId, "CustTransactions.TnValue.N", line?.outcome._tag === "Kept" ? line.outcome.reason : ""])

    await DynamoLocal.putItem(ctx.names.transactions, { CustID: { S: "fix-a" }, TnNum: { N: "1" }, TnValue: { N: "12" } })
    const fixed = await replay([])
    assert.deepStrictEqual(fixed.lines.filter((l) => l.custId === "fix-a").map((l) => l.outcome._tag === "Replayed" ? `replayed ${l.outcome.custId}` : l.outcome._tag), ["replayed fix-a"])
    assert.strictEqual(await total("fix-a"), 42)
    assert.isFalse((await listed()).some((r) => r.custId === "fix-a"), "a replayed record leaves the quarantine")
    const second = await replay([])
    assert.isFalse(second.lines.some((l) => l.custId === "fix-a"))
    assert.strictEqual(await total("fix-a"), 42)
  })

  it("puts a given-up record that cannot be counted into the quarantine, once, and skips MODIFY and REMOVE", async () => {
    const noRow = insert("lost-a", 9, 50)
    const noTnNum = { ...Events.insert({ custId: "lost-b", tnValue: 5, sequenceNumber: DynamoLocal.nextSequenceNumber() }), eventSourceARN: STREAM }
    const modify = { ...Events.change("MODIFY", { custId: "lost-c", tnNum: 1, tnValue: 5, sequenceNumber: DynamoLocal.nextSequenceNumber() }), eventSourceARN: STREAM }
    const notARecord = { eventName: "aws:kinesis:record", kinesis: {} }
    const sources = [given([noRow, noTnNum, modify, notARecord])]
    const report = await replay(sources)
    assert.deepStrictEqual(givenLines(report).map((l) => l.outcome), [
      { _tag: "Kept", field: "CustTransactions", reason: "CustTransactions has no row lost-a/9: nothing to count" },
      { _tag: "Kept", field: "TnNum", reason: "TnNum: is missing, so no CustTransactions row can be found" },
      { _tag: "Skipped", reason: "MODIFY: not a purchase" },
      { _tag: "Kept", field: "CustID", reason: "CustID: is missing, so no CustTransactions row can be found" }
    ])
    assert.deepStrictEqual(givenLines(report).map((l) => l.source), ["test entry 1", "test entry 2", "test entry 3", "test entry 4"])
    const quarantined = async () => (await listed()).filter((r) => r.custId === "lost-a" || r.custId === "lost-b" || r.rawRecord.includes("aws:kinesis:record"))
    assert.deepStrictEqual((await quarantined()).map((r) => r.reason).sort(), [
      "CustID: is missing, so no CustTransactions row can be found",
      "CustTransactions has no row lost-a/9: nothing to count",
      "TnNum: is missing, so no CustTransactions row can be found"
    ])
    await replay(sources)
    assert.strictEqual((await quarantined()).length, 3)
  })

  it("--dry-run says what it would do and writes nothing", async () => {
    await DynamoLocal.putRows(DynamoLocal.client(), ctx.names.transactions, [{ custId: "dry-a", tnNum: 1, tnValue: 1200 }])
    await DynamoLocal.putItem(ctx.names.transactions, { CustID: { S: "dry-b" }, TnNum: { N: "1" }, TnValue: { N: "-1" } })
    const records = [insert("dry-a", 1, 1200)]
    const bad = insert("dry-b", 1, "-1")
    await ctx.live.handler({ Records: [bad] } as Parameters<typeof ctx.live.handler>[0])
    const [quarantinedBefore] = (await listed()).filter((r) => r.custId === "dry-b")

    const report = await replay([given(records)], true)
    assert.isTrue(report.dryRun)
    assert.deepStrictEqual(report.customers, [{ custId: "dry-a", before: 0, after: 1200, written: true }])
    assert.deepInclude(report.lines.find((l) => l.custId === "dry-b")?.outcome, { _tag: "Kept", field: "CustTransactions.TnValue.N" })
    assert.isUndefined(await DynamoLocal.profileRow(ctx.names, "dry-a"))
    const [quarantinedAfter] = (await listed()).filter((r) => r.custId === "dry-b")
    assert.deepStrictEqual(quarantinedAfter, quarantinedBefore)
  })

  it("reads the local runner's on-failure file, each record named by its entry", async () => {
    const file = join(dir, "on-failure.jsonl")
    const records = [insert("file-a", 1, 70), insert("file-a", 2, 80)]
    await DynamoLocal.putRows(DynamoLocal.client(), ctx.names.transactions, [{ custId: "file-a", tnNum: 1, tnValue: 70 }, { custId: "file-a", tnNum: 2, tnValue: 80 }])
    await Effect.runPromise(OnFailure.append(file, {
      requestContext: { requestId: "r-1", condition: "RetryAttemptsExhausted", approximateInvokeCount: 11 },
      version: "1.0",
      timestamp: "2026-01-01T00:00:00.000Z",
      DDBStreamBatchInfo: { shardId: "shard-1", startSequenceNumber: "1", endSequenceNumber: "2", batchSize: 2, streamArn: STREAM },
      payload: { Records: records }
    }))
    const found = await Effect.runPromise(Replay.onFailureFile(file))
    assert.deepStrictEqual(found, records.map((record) => ({ source: `${file} entry 1`, record })))
    const report = await replay([Replay.onFailureFile(file)])
    assert.deepStrictEqual(report.customers, [{ custId: "file-a", before: 0, after: 150, written: true }])
    assert.deepInclude(Replay.totals({ ...report, lines: givenLines(report) }), { records: 2, replayed: 2, kept: 0, failed: 0, customers: 1, changed: 1, dollars: 150 })
    assert.deepStrictEqual(await Effect.runPromise(Replay.onFailureFile(join(dir, "none.jsonl"))), [])
  })
})
