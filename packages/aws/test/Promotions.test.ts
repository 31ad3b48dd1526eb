import { DeleteItemCommand, GetItemCommand, ProvisionedThroughputExceededException } from "@aws-sdk/client-dynamodb"
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

describe("EliteQualified events", () => {
  it("records the crossing transaction, the total then, and EliteSince, once, whatever is delivered again", async () => {
    const h = handlerWith()
    const records = DynamoLocal.inserts("crosser", [[1, 600], [2, 300], [3, 150], [4, 70]])
    await deliver(h, records.slice(0, 2))
    assert.deepStrictEqual(await DynamoLocal.eliteEvents(names), [])
    await deliver(h, records)
    await deliver(h, records.slice(1))
    const events = await DynamoLocal.eliteEvents(names)
    assert.strictEqual(events.length, 1)
    const profile = await DynamoLocal.profileRow(names, "crosser")
    assert.deepInclude(profile, { TotalTnValue: 1120, CustStatus: "Elite" })
    assert.deepInclude(events[0], {
      CustID: "crosser",
      EventType: "EliteQualified",
      TotalTnValue: 1050,
      TnNum: 3,
      SequenceNumber: records[2]?.dynamodb?.SequenceNumber,
      QualifiedAt: profile?.EliteSince,
      ProfileVersion: 2
    })
    assert.isFalse(Number.isNaN(Date.parse(String(profile?.EliteSince))))
  })

  it("two handlers racing over the same promoting records write one event", async () => {
    const a = handlerWith()
    const b = handlerWith()
    const records = DynamoLocal.inserts("racing-elite", Array.from({ length: 30 }, (_, i) => [i + 1, 50] as const))
    const slices = [records.slice(0, 20), records.slice(10), records.slice(5, 25), records]
    await Promise.all(slices.flatMap((slice) => [deliver(a, slice), deliver(b, slice)]))
    assert.deepInclude(await DynamoLocal.profileRow(names, "racing-elite"), { TotalTnValue: 1500, CustStatus: "Elite" })
    const events = await DynamoLocal.eliteEvents(names)
    assert.deepStrictEqual(events.map((e) => [e.CustID, e.TotalTnValue]), [["racing-elite", 1000]])
  })

  it("a throttled promotion writes neither the profile nor the event until it succeeds, then both once", async () => {
    let throttles = 0
    const h = handlerWith({
      before: (command) => {
        if (command === "TransactWriteItemsCommand" && throttles++ < 8) {
          throw new ProvisionedThroughputExceededException({ message: "throttled", $metadata: {} })
        }
      }
    })
    const records = DynamoLocal.inserts("throttled-elite", [[1, 999], [2, 1]])
    await deliver(h, records.slice(0, 1))
    const response = await h.handler(Events.batch(records.slice(1)))
    // Six attempts on the transient schedule, all throttled: the record is reported for redelivery.
    assert.strictEqual(response.batchItemFailures.length, 1)
    assert.deepInclude(await DynamoLocal.profileRow(names, "throttled-elite"), { TotalTnValue: 999, CustStatus: "Normal" })
    assert.deepStrictEqual(await DynamoLocal.eliteEvents(names), [])
    await deliver(h, records)
    assert.deepInclude(await DynamoLocal.profileRow(names, "throttled-elite"), { TotalTnValue: 1000, CustStatus: "Elite" })
    assert.strictEqual((await DynamoLocal.eliteEvents(names)).length, 1)
  })

  it("a crash after the promotion landed emits nothing more when the batch comes again", async () => {
    let crashed = false
    const crashing = handlerWith({
      after: (command) => {
        if (command === "TransactWriteItemsCommand" && !crashed) {
          crashed = true
          throw new Error("process killed after the write")
        }
      }
    })
    const records = DynamoLocal.inserts("crash-elite", [[1, 2000]])
    const first = await crashing.handler(Events.batch(records))
    assert.strictEqual(first.batchItemFailures.length, 1)
    await deliver(handlerWith(), records)
    assert.deepInclude(await DynamoLocal.profileRow(names, "crash-elite"), { TotalTnValue: 2000 })
    assert.strictEqual((await DynamoLocal.eliteEvents(names)).length, 1)
  })

  it("promotes a customer again after their promoted profile was deleted: a second event, the first kept", async () => {
    const h = handlerWith()
    await deliver(h, DynamoLocal.inserts("reborn", [[1, 1200]]))
    const [first] = await DynamoLocal.eliteEvents(names)
    assert.deepInclude(first, { CustID: "reborn", ProfileVersion: 1 })
    // An operator (or a Jam reset) deletes the profile: its versions start again at 1.
    await DynamoLocal.client().send(new DeleteItemCommand({ TableName: names.profiles, Key: { CustID: { S: "reborn" } } }))
    await deliver(h, DynamoLocal.inserts("reborn", [[2, 1500]]))
    const profile = await DynamoLocal.profileRow(names, "reborn")
    assert.deepInclude(profile, { TotalTnValue: 1500, CustStatus: "Elite" })
    const events = await DynamoLocal.eliteEvents(names)
    assert.strictEqual(events.length, 2)
    assert.deepStrictEqual(events[0], first)
    assert.deepInclude(events[1], { CustID: "reborn", TotalTnValue: 1500, TnNum: 2, ProfileVersion: profile?.ProfileVersion })
    assert.isAbove(Number(profile?.ProfileVersion), 1)
    // Nothing was given up on or counted twice on the way: the collision is no lost race.
    assert.deepInclude(h.summaries().at(-1), { applied: 1, failed: 0 })
  })

  it("promotes a customer again after their profile was restored from before a promotion", async () => {
    const h = handlerWith()
    await deliver(h, DynamoLocal.inserts("restored", [[1, 400], [2, 100]]))
    const backup = await DynamoLocal.client().send(new GetItemCommand({ TableName: names.profiles, Key: { CustID: { S: "restored" } }, ConsistentRead: true }))
    await deliver(h, DynamoLocal.inserts("restored", [[3, 700]]))
    assert.strictEqual((await DynamoLocal.eliteEvents(names)).length, 1)
    // Restored as it was before the promotion: the next write takes the promoting version again.
    if (backup.Item === undefined) throw new Error("no profile to back up")
    await DynamoLocal.putItem(names.profiles, backup.Item)
    await deliver(h, DynamoLocal.inserts("restored", [[4, 600]]))
    assert.deepInclude(await DynamoLocal.profileRow(names, "restored"), { TotalTnValue: 1100, CustStatus: "Elite" })
    const events = await DynamoLocal.eliteEvents(names)
    assert.deepStrictEqual(events.map((e) => [e.TnNum, e.TotalTnValue]), [[3, 1200], [4, 1100]])
  })
})
