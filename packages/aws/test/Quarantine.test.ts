import { ProvisionedThroughputExceededException } from "@aws-sdk/client-dynamodb"
import * as Events from "@dyna/core/Events"
import * as Environment from "../src/Environment.js"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import { Buffer } from "node:buffer"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { MAX_EXCERPT_BYTES, Quarantine, recordIdOf } from "../src/Quarantine.js"
import * as DynamoLocal from "./support/DynamoLocal.js"

let runtime: ManagedRuntime.ManagedRuntime<Quarantine, unknown>

const ctx = DynamoLocal.useHandler()
beforeAll(() => {
  runtime = ManagedRuntime.make(DynamoLocal.servicesLayer(ctx.names))
})
afterAll(() => runtime.dispose())

const listed = () => runtime.runPromise(Effect.gen(function*() {
  return yield* (yield* Quarantine).list()
}))

const record = (n: number, image: Record<string, unknown>) => ({
  eventID: `ev-${n}`,
  eventName: "INSERT",
  eventSource: "aws:dynamodb",
  dynamodb: { NewImage: image, SequenceNumber: Events.sequenceNumber(n) }
})

describe("malformed records", () => {
  const bad = [
    record(1, { CustID: { S: "q-1" }, TnNum: { N: "1" }, TnValue: { N: "12.5" } }),
    record(2, { CustID: { S: "q-1" }, TnNum: { N: "2" }, TnValue: { S: "12" } }),
    record(3, { TnNum: { N: "3" }, TnValue: { N: "5" } }),
    record(4, { CustID: { S: "q-2" }, TnNum: { N: "4" }, TnValue: { N: "90071992547409930" } })
  ]
  const good = [
    Events.insert({ custId: "q-1", tnNum: 10, tnValue: 700, sequenceNumber: Events.sequenceNumber(10) }),
    Events.insert({ custId: "q-2", tnNum: 11, tnValue: 300, sequenceNumber: Events.sequenceNumber(11) })
  ]
  const event = { Records: [bad[0], good[0], bad[1], bad[2], good[1], bad[3]] }

  it("are quarantined with their reason while the rest of the batch applies, and nothing is retried", async () => {
    const response = await ctx.live.handler(event as Parameters<typeof ctx.live.handler>[0])
    assert.deepStrictEqual(response, { batchItemFailures: [] })
    assert.deepInclude(await DynamoLocal.profileRow(ctx.names, "q-1"), { TotalTnValue: 700 })
    assert.deepInclude(await DynamoLocal.profileRow(ctx.names, "q-2"), { TotalTnValue: 300 })

    const rejected = await listed()
    assert.deepStrictEqual(rejected.map((r) => r.sequenceNumber).sort(), bad.map((r) => r.dynamodb.SequenceNumber).sort())
    const byId = new Map(rejected.map((r) => [r.sequenceNumber, r]))
    assert.include(byId.get(Events.sequenceNumber(1))?.reason, "TnValue.N: must be a whole number of dollars")
    assert.strictEqual(byId.get(Events.sequenceNumber(1))?.custId, "q-1")
    assert.strictEqual(byId.get(Events.sequenceNumber(1))?.tnNum, "1")
    assert.include(byId.get(Events.sequenceNumber(3))?.reason, "CustID")
    assert.include(byId.get(Events.sequenceNumber(4))?.reason, "too large")
    assert.deepStrictEqual(JSON.parse(byId.get(Events.sequenceNumber(2))?.rawRecord ?? "null"), bad[1])
    assert.deepInclude(ctx.live.summaries().at(-1), {
      records: 6,
      applied: 2,
      quarantined: 4,
      failed: 0
    })
  })

  it("are not quarantined twice when the batch is delivered again, and the log says they were there already", async () => {
    await ctx.live.handler(event as Parameters<typeof ctx.live.handler>[0])
    assert.strictEqual((await listed()).length, 4)
    assert.deepInclude(ctx.live.summaries().at(-1), { quarantined: 0, alreadyQuarantined: 4 })
    assert.deepInclude(await DynamoLocal.profileRow(ctx.names, "q-1"), { TotalTnValue: 700 })
  })

  it("an event without Records is kept in quarantine, not thrown", async () => {
    const response = await ctx.live.handler({ hello: "world" } as unknown as Parameters<typeof ctx.live.handler>[0])
    assert.deepStrictEqual(response, { batchItemFailures: [] })
    assert.isTrue((await listed()).some((r) => r.rawRecord === JSON.stringify({ hello: "world" })))
  })

  it("a record that cannot even be quarantined is reported for redelivery", async () => {
    const h = DynamoLocal.handler(ctx.names, {
      faults: {
        before: (command) => {
          if (command === "PutItemCommand") {
            throw new ProvisionedThroughputExceededException({ message: "slow down", $metadata: {} })
          }
        }
      }
    })
    const broken = record(99, { CustID: { S: "q-3" }, TnValue: { N: "oops" } })
    const response = await h.handler({ Records: [broken] } as unknown as Parameters<typeof ctx.live.handler>[0])
    await h.dispose()
    assert.deepStrictEqual(response.batchItemFailures, [{ itemIdentifier: Events.sequenceNumber(99) }])
  })
})

describe("the quarantine's keys", () => {
  const arn = "arn:aws:dynamodb:us-east-1:123456789012:table/ExampleTableWithStream/stream/2015-06-27T00:48:05.899"
  /** A sample event as public SDK repositories ship it: sequence number 111, and the same stream ARN in every repository. */
  const sample = (custId: string, streamArn?: string) => ({
    eventID: "c4ca4238a0b923820dcc509a6f75849b",
    eventName: "INSERT",
    eventSource: "aws:dynamodb",
    ...(streamArn === undefined ? {} : { eventSourceARN: streamArn }),
    dynamodb: { NewImage: { CustID: { S: custId }, TnValue: { N: "1.5" } }, SequenceNumber: "111" }
  })

  it("keeps two different records that share a stream and sequence number, and counts what was stored", async () => {
    const h = DynamoLocal.handler(ctx.names)
    const event = { Records: [sample("keys-a", arn), sample("keys-b", arn), sample("keys-c"), sample("keys-d")] }
    await h.handler(event as unknown as Parameters<typeof h.handler>[0])
    await h.handler(event as unknown as Parameters<typeof h.handler>[0])
    await h.dispose()
    const kept = (await listed()).filter((r) => r.custId?.startsWith("keys-"))
    assert.deepStrictEqual(kept.map((r) => r.custId).sort(), ["keys-a", "keys-b", "keys-c", "keys-d"])
    assert.deepStrictEqual(h.summaries().map((s) => [s.quarantined, s.alreadyQuarantined]), [[4, 0], [0, 4]])
    assert.strictEqual(h.logs.filter((l) => l.message === "record quarantined").length, 4)
    // The first record stored under a stream and sequence number is named by them (a and b race for it);
    // a different one, and one without a stream, by its content.
    const byCustomer = new Map(kept.map((r) => [r.custId, r]))
    const ids = ["keys-a", "keys-b", "keys-c", "keys-d"].map((custId) => byCustomer.get(custId)?.recordId ?? "")
    assert.deepStrictEqual(ids.slice(0, 2).filter((id) => id === `${arn}#111`).length, 1, ids.join(", "))
    assert.strictEqual(ids.filter((id) => /^sha256:[0-9a-f]{64}$/.test(id)).length, 3, ids.join(", "))
    assert.strictEqual(byCustomer.get("keys-a")?.streamArn, arn)
    assert.strictEqual(byCustomer.get("keys-b")?.reason, 'TnValue.N: must be a whole number of dollars, got "1.5"')
  })

  it("keeps a bounded excerpt, says what it cut, and expires the item after QUARANTINE_DAYS", async () => {
    const big = { ...sample("cut-1"), dynamodb: { NewImage: { CustID: { S: "cut-1" }, TnValue: { N: "1" }, Notes: { S: "€".repeat(100_000) } }, SequenceNumber: "5" } }
    const bad = { ...big, dynamodb: { ...big.dynamodb, NewImage: { ...big.dynamodb.NewImage, TnValue: { N: "x" } } } }
    const json = JSON.stringify(bad)
    const layer = Quarantine.layerNoDeps.pipe(
      Layer.provide(DynamoLocal.servicesLayer(ctx.names)),
      Layer.provide(Environment.layer({ QUARANTINE_DAYS: "7" }))
    )
    const started = Date.now()
    const [outcome, rejected] = await Effect.runPromise(Effect.gen(function*() {
      const q = yield* Quarantine
      const { outcome } = yield* q.put({ custId: "cut-1", field: "TnValue.N", reason: "TnValue.N: x" }, bad)
      return [outcome, (yield* q.list()).find((r) => r.custId === "cut-1")] as const
    }).pipe(Effect.provide(layer)))
    assert.strictEqual(outcome, "quarantined")
    assert.isDefined(rejected)
    assert.isAtMost(Buffer.byteLength(rejected?.rawRecord ?? "", "utf8"), MAX_EXCERPT_BYTES)
    assert.isTrue(json.startsWith(rejected?.rawRecord.replace(/\uFFFD$/, "") ?? "-"))
    assert.deepStrictEqual(rejected?.cut.map((c) => c.field), ["rawRecord"])
    assert.strictEqual(rejected?.cut[0]?.bytes, Buffer.byteLength(json, "utf8"))
    const expires = Date.parse(rejected?.expiresAt ?? "")
    const week = 7 * 86_400_000
    assert.isAtLeast(expires, Math.floor(started / 1000) * 1000 + week)
    assert.isAtMost(expires, Date.now() + week)
    const item = (await DynamoLocal.scanTable(ctx.names.rejected)).find((i) => i.CustID === "cut-1")
    assert.strictEqual(item?.ExpiresAt, expires / 1000, "ExpiresAt: a number of epoch seconds, as DynamoDB's TTL reads it")
  })

  it("expires after 30 days by default, and refuses a QUARANTINE_DAYS that is not a whole number of days", async () => {
    const put = (config: Record<string, string>) =>
      Effect.runPromiseExit(Effect.gen(function*() {
        const q = yield* Quarantine
        yield* q.put({ custId: "ttl-1", field: "f", reason: "r" }, { custId: "ttl-1", config })
        return (yield* q.list()).find((r) => r.rawRecord.includes(JSON.stringify(config)))?.expiresAt
      }).pipe(Effect.provide(Quarantine.layerNoDeps.pipe(
        Layer.provide(DynamoLocal.servicesLayer(ctx.names)),
        Layer.provide(Environment.layer(config))
      ))))
    const fallback = await put({})
    assert.isTrue(fallback._tag === "Success")
    const days = fallback._tag === "Success" ? (Date.parse(fallback.value ?? "") - Date.now()) / 86_400_000 : 0
    assert.approximately(days, 30, 0.01)
    assert.strictEqual((await put({ QUARANTINE_DAYS: "2.5" }))._tag, "Failure")
    assert.strictEqual((await put({ QUARANTINE_DAYS: "0" }))._tag, "Failure")
  })

  it("says again why a record stays, and lets an operator take one out", async () => {
    const raw = sample("restate-1", "arn:aws:dynamodb:us-east-1:1:table/T/stream/restate")
    await runtime.runPromise(Effect.gen(function*() {
      const q = yield* Quarantine
      yield* q.put({ custId: "restate-1", field: "TnValue.N", reason: "first" }, raw)
      const id = recordIdOf(raw)
      assert.strictEqual(yield* q.restate(id, "CustTransactions.TnValue", "still bad"), "restated")
      const [kept] = (yield* q.list()).filter((r) => r.recordId === id)
      assert.deepInclude(kept, { field: "CustTransactions.TnValue", reason: "still bad", custId: "restate-1" })
      yield* q.remove(id)
      assert.isFalse((yield* q.list()).some((r) => r.recordId === id))
      assert.strictEqual(yield* q.restate(id, "f", "r"), "gone")
    }))
  })
})
