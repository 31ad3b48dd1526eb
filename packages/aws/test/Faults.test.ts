import { ConditionalCheckFailedException, ProvisionedThroughputExceededException } from "@aws-sdk/client-dynamodb"
import * as Events from "@dyna/core/Events"
import type { DynamoDBRecord } from "aws-lambda"
import { afterEach, assert, beforeEach, describe, it } from "vitest"
import * as DynamoLocal from "./support/DynamoLocal.js"

let names: DynamoLocal.TableNames
const disposers: Array<() => Promise<void>> = []
beforeEach(async () => {
  names = await DynamoLocal.freshTables()
})
afterEach(async () => {
  await Promise.all(disposers.splice(0).map((dispose) => dispose()))
})

const handlerWith = (faults: DynamoLocal.Faults = {}) => {
  const h = DynamoLocal.handler(names, { faults })
  disposers.push(h.dispose)
  return h
}

/** Delivers a batch as Lambda does: again from the lowest reported failure, until none is reported. */
const deliver = async (h: ReturnType<typeof handlerWith>, records: ReadonlyArray<DynamoDBRecord>) => {
  let pending = [...records]
  for (let attempt = 0; attempt < 10 && pending.length > 0; attempt++) {
    const lowest = (await h.handler(Events.batch(pending))).batchItemFailures[0]?.itemIdentifier
    pending = lowest === undefined ? [] : pending.slice(pending.findIndex((r) => r.dynamodb?.SequenceNumber === lowest))
  }
  assert.strictEqual(pending.length, 0, "still failing after 10 deliveries")
}

const throttled = () =>
  new ProvisionedThroughputExceededException({ message: "Rate of requests exceeds the allowed throughput", $metadata: {} })

const total = async (custId: string) => (await DynamoLocal.profileRow(names, custId))?.TotalTnValue

describe("faults", () => {
  it("two handlers racing on one customer count every transaction once", async () => {
    let lostRaces = 0
    const counting: DynamoLocal.Faults = {
      failed: (command, error) => {
        if (command === "UpdateItemCommand" && (error as Error).name === "ConditionalCheckFailedException") lostRaces++
      }
    }
    const a = handlerWith(counting)
    const b = handlerWith(counting)
    const records = DynamoLocal.inserts("racer", Array.from({ length: 40 }, (_, i) => [i + 1, (i + 1) * 10] as const))
    // Overlapping slices, delivered to both handlers at once, several times over.
    const slices = [records.slice(0, 25), records.slice(15, 40), records.slice(5, 30), records]
    await Promise.all(slices.flatMap((slice) => [deliver(a, slice), deliver(b, slice)]))
    assert.strictEqual(await total("racer"), 10 * (40 * 41) / 2)
    assert.isAbove(lostRaces, 0, "the handlers never actually raced")
    const row = await DynamoLocal.profileRow(names, "racer")
    assert.strictEqual(row?.CustStatus, "Elite")
  })

  it("a crash after a profile write landed loses and doubles nothing when the batch comes again", async () => {
    let updates = 0
    const crashing = handlerWith({
      after: (command) => {
        // The second customer's write reaches the table; the process dies before it hears back.
        if (command === "UpdateItemCommand" && ++updates === 2) throw new Error("simulated crash")
      }
    })
    const event = Events.batch([
      ...DynamoLocal.inserts("crash-a", [[1, 100]]),
      ...DynamoLocal.inserts("crash-b", [[1, 200]]),
      ...DynamoLocal.inserts("crash-c", [[1, 300]]),
      ...DynamoLocal.inserts("crash-a", [[2, 1000]])
    ])
    await crashing.handler(event).catch(() => undefined)
    // Lambda delivers the whole batch again, to a fresh environment.
    assert.deepStrictEqual(await handlerWith().handler(event), { batchItemFailures: [] })
    assert.deepStrictEqual([await total("crash-a"), await total("crash-b"), await total("crash-c")], [1100, 200, 300])
  })

  it("retries throttling and applies everything when it passes", async () => {
    let calls = 0
    const h = handlerWith({
      before: (command) => {
        if (command === "UpdateItemCommand" && ++calls <= 2) throw throttled()
      }
    })
    assert.deepStrictEqual(await h.handler(Events.batch(DynamoLocal.inserts("throttled", [[1, 5], [2, 6]]))), { batchItemFailures: [] })
    assert.strictEqual(await total("throttled"), 11)
  })

  it("reports a customer that stays throttled by sequence number, lowest first, and applies the others", async () => {
    const h = handlerWith({
      before: (command, input) => {
        const key = input.Key as { CustID?: { S?: string } } | undefined
        if (command === "UpdateItemCommand" && key?.CustID?.S === "stuck") throw throttled()
      }
    })
    const stuck = [...DynamoLocal.inserts("stuck", [[1, 10]]), ...DynamoLocal.inserts("fine", [[1, 20]]), ...DynamoLocal.inserts("stuck", [[2, 30]])]
    const response = await h.handler(Events.batch(stuck))
    const expected = [stuck[0], stuck[2]].map((r) => r?.dynamodb?.SequenceNumber)
    assert.deepStrictEqual(response.batchItemFailures.map((f) => f.itemIdentifier), expected)
    assert.strictEqual(await total("fine"), 20)
    assert.strictEqual(await total("stuck"), undefined)
    // Lambda delivers from the lowest failure on: the applied record comes again and is not doubled.
    assert.deepStrictEqual(await handlerWith().handler(Events.batch(stuck)), { batchItemFailures: [] })
    assert.deepStrictEqual([await total("stuck"), await total("fine")], [40, 20])
  })

  it("reports a customer whose conditional write keeps losing, past the retries, for redelivery", async () => {
    const h = handlerWith({
      before: (command) => {
        if (command === "UpdateItemCommand") {
          throw new ConditionalCheckFailedException({ message: "The conditional request failed", $metadata: {} })
        }
      }
    })
    const records = DynamoLocal.inserts("contended", [[1, 10]])
    const response = await h.handler(Events.batch(records))
    assert.deepStrictEqual(response.batchItemFailures, [{ itemIdentifier: records[0]?.dynamodb?.SequenceNumber ?? "" }])
    assert.include(JSON.stringify(h.logs), "kept changing under concurrent writers")
  })

  it("fails the whole invocation when a failing record has no SequenceNumber to report", async () => {
    const h = handlerWith({
      before: (command) => {
        if (command === "UpdateItemCommand") throw throttled()
      }
    })
    const event = Events.batch([Events.insert({ custId: "anon", tnNum: 1, tnValue: 5 })])
    let error: unknown
    await h.handler(event).catch((e: unknown) => (error = e))
    assert.instanceOf(error, Error)
    assert.include(String((error as Error).message), "no SequenceNumber")
  })
})
