/**
 * Batch.handle on DynamoDB Local under faults, through the real handler: racing handlers, a crash after
 * a write landed, a read ahead cut short or refused, throttling, and conditional writes that keep losing.
 * Faults are SDK errors at the client; what stays failing is reported by SequenceNumber, lowest first.
 */
import { ConditionalCheckFailedException, ProvisionedThroughputExceededException } from "@aws-sdk/client-dynamodb"
import * as Events from "@dyna/core/Events"
import { assert, describe, it } from "vitest"
import * as DynamoLocal from "./support/DynamoLocal.js"

const fresh = DynamoLocal.perTest()
const { handlerWith } = fresh

const { deliver } = DynamoLocal

const throttled = () =>
  new ProvisionedThroughputExceededException({ message: "Rate of requests exceeds the allowed throughput", $metadata: {} })

const total = async (custId: string) => (await DynamoLocal.profileRow(fresh.names, custId))?.TotalTnValue

describe("a batch under faults", () => {
  it("two handlers racing on one customer count every transaction once", async () => {
    let lostRaces = 0
    const counting: DynamoLocal.Faults = {
      failed: (command, error) => {
        // A plain update loses with ConditionalCheckFailed; a promoting transaction is cancelled for it.
        const name = (error as Error).name
        if (name === "ConditionalCheckFailedException" || (command === "TransactWriteItemsCommand" && name === "TransactionCanceledException")) lostRaces++
      }
    }
    const a = handlerWith(counting)
    const b = handlerWith(counting)
    // Whether two writes meet is down to timing: a round of 40 new transactions, again until they have.
    let rounds = 0
    while (rounds < 5 && (rounds === 0 || lostRaces === 0)) {
      const base = rounds++ * 100
      const records = DynamoLocal.inserts("racer", Array.from({ length: 40 }, (_, i) => [base + i + 1, (i + 1) * 10] as const))
      // Overlapping slices, delivered to both handlers at once.
      const slices = [records.slice(0, 25), records.slice(15, 40), records.slice(5, 30), records]
      await Promise.all(slices.flatMap((slice) => [deliver(a, slice), deliver(b, slice)]))
    }
    assert.strictEqual(await total("racer"), rounds * 10 * (40 * 41) / 2)
    assert.isAbove(lostRaces, 0, "the handlers never actually raced")
    const row = await DynamoLocal.profileRow(fresh.names, "racer")
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

  it("reads a batch's profiles in one BatchGetItem per 100 customers, and alone those it leaves unread", async () => {
    const calls: Array<string> = []
    // DynamoDB leaves every third key unprocessed, as it does when throttled or past 16 MB.
    const partial = handlerWith({
      before: (command) => void calls.push(command),
      answer: (command, output) => {
        if (command !== "BatchGetItemCommand") return output
        const items = (output.Responses as Record<string, Array<Record<string, unknown>>>)[fresh.names.profiles] ?? []
        return {
          ...output,
          Responses: { [fresh.names.profiles]: items.filter((_, i) => i % 3 !== 0) },
          UnprocessedKeys: { [fresh.names.profiles]: { Keys: items.filter((_, i) => i % 3 === 0).map((item) => ({ CustID: item.CustID })) } }
        }
      }
    })
    const customers = Array.from({ length: 150 }, (_, i) => `ahead-${i}`)
    await deliver(handlerWith(), customers.flatMap((c) => DynamoLocal.inserts(c, [[1, 600]])))
    calls.length = 0
    await deliver(partial, customers.flatMap((c) => DynamoLocal.inserts(c, [[2, 500]])))
    const count = (command: string) => calls.filter((c) => c === command).length
    assert.deepStrictEqual([count("BatchGetItemCommand"), count("GetItemCommand"), count("UpdateItemCommand") + count("TransactWriteItemsCommand")], [
      2,
      Math.ceil(100 / 3) + Math.ceil(50 / 3),
      150
    ])
    for (const c of customers) assert.strictEqual(await total(c), 1100, c)
  })

  it("reads each profile alone when the read ahead fails", async () => {
    const h = handlerWith({
      before: (command) => {
        if (command === "BatchGetItemCommand") throw new Error("simulated: BatchGetItem not allowed")
      }
    })
    await deliver(h, [...DynamoLocal.inserts("alone-a", [[1, 700], [2, 400]]), ...DynamoLocal.inserts("alone-b", [[1, 5]])])
    assert.deepStrictEqual([await total("alone-a"), await total("alone-b")], [1100, 5])
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
