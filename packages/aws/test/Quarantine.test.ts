import { ProvisionedThroughputExceededException } from "@aws-sdk/client-dynamodb"
import * as Events from "@dyna/core/Events"
import * as Effect from "effect/Effect"
import * as ManagedRuntime from "effect/ManagedRuntime"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { Quarantine } from "../src/Quarantine.js"
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
    assert.deepStrictEqual(rejected.map((r) => r.recordId).sort(), bad.map((r) => r.dynamodb.SequenceNumber).sort())
    const byId = new Map(rejected.map((r) => [r.recordId, r]))
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

  it("are not quarantined twice when the batch is delivered again", async () => {
    await ctx.live.handler(event as Parameters<typeof ctx.live.handler>[0])
    assert.strictEqual((await listed()).length, 4)
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
