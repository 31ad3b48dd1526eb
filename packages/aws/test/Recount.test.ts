import * as Events from "@dyna/core/Events"
import type { CustomerId } from "@dyna/core/Transaction"
import * as Effect from "effect/Effect"
import { assert, beforeEach, describe, it } from "vitest"
import { ProfileStore } from "../src/ProfileStore.js"
import * as DynamoLocal from "./support/DynamoLocal.js"

let names: DynamoLocal.TableNames
beforeEach(async () => {
  names = await DynamoLocal.freshTables()
})

const row = (custId: string, tnNum: number | string, tnValue: number | string) =>
  DynamoLocal.putItem(names.transactions, { CustID: { S: custId }, TnNum: { N: String(tnNum) }, TnValue: { N: String(tnValue) } })

const recount = (custId: string) =>
  DynamoLocal.run(names, Effect.gen(function*() {
    return yield* (yield* ProfileStore).recount(custId as CustomerId)
  }))

describe("ProfileStore.recount on DynamoDB Local", () => {
  it("sets a Jam profile's total from its rows, keeps its other attributes, promotes once, and then changes nothing", async () => {
    await DynamoLocal.putItem(names.profiles, {
      CustID: { S: "jam-1" },
      TotalTnValue: { N: "100" },
      CustStatus: { S: "Normal" },
      Email: { S: "jam@example.com" }
    })
    for (const [n, v] of [[1, 400], [2, 500], [3, 300]] as const) await row("jam-1", n, v)
    const first = await recount("jam-1")
    assert.strictEqual(first.applied.length, 3)
    assert.strictEqual(first.promotion?.tnNum, "3")
    const profile = await DynamoLocal.profileRow(names, "jam-1")
    assert.deepInclude(profile, { TotalTnValue: 1200, CustStatus: "Elite", Email: "jam@example.com", ProfileVersion: 1 })
    assert.strictEqual(profile?.EliteSince, first.promotion?.qualifiedAt)
    const again = await recount("jam-1")
    assert.strictEqual(again.applied.length, 0)
    assert.strictEqual(again.duplicates.length, 3)
    assert.deepInclude(await DynamoLocal.profileRow(names, "jam-1"), { ProfileVersion: 1 })
    assert.strictEqual((await DynamoLocal.eliteEvents(names)).length, 1)
  })

  it("leaves nothing for the stream to count twice: a row it recounted is a duplicate when the stream delivers it", async () => {
    await row("late", 1, 700)
    await row("late", 2, 400)
    await recount("late")
    const live = DynamoLocal.handler(names)
    try {
      const response = await live.handler(Events.batch(DynamoLocal.inserts("late", [[2, 400], [3, 50]])))
      assert.deepStrictEqual(response, { batchItemFailures: [] })
      assert.deepInclude(live.summaries().at(-1), { applied: 1, duplicates: 1 })
    } finally {
      await live.dispose()
    }
    assert.deepInclude(await DynamoLocal.profileRow(names, "late"), { TotalTnValue: 1150 })
    assert.strictEqual((await DynamoLocal.eliteEvents(names)).length, 1)
  })

  it("fails naming the row and the field when a row cannot be counted, and writes nothing", async () => {
    await row("broken", 1, 10)
    await DynamoLocal.putItem(names.transactions, { CustID: { S: "broken" }, TnNum: { N: "2" }, TnValue: { S: "ten" } })
    const error = await recount("broken").then(() => undefined, (e: unknown) => e)
    assert.instanceOf(error, Error)
    assert.match((error as Error).message, /CustTransactions row broken\/2 cannot be counted: TnValue\.N /)
    assert.isUndefined(await DynamoLocal.profileRow(names, "broken"))
  })

  it("recounts a customer with more rows than a profile item could log, and the stream then counts none of them again", async () => {
    const rows = Array.from({ length: 32_000 }, (_, i) => ({ custId: "many", tnNum: 2_000_000_000 + i * 3, tnValue: 1 + (i % 5) }))
    const sdk = DynamoLocal.client()
    for (let i = 0; i < rows.length; i += 25) await DynamoLocal.putRows(sdk, names.transactions, rows.slice(i, i + 25))
    sdk.destroy()
    const total = rows.reduce((sum, r) => sum + r.tnValue, 0)
    const first = await recount("many")
    assert.strictEqual(first.applied.length, rows.length)
    assert.deepInclude(await DynamoLocal.profileRow(names, "many"), { TotalTnValue: total, CustStatus: "Elite" })
    const live = DynamoLocal.handler(names)
    try {
      const redelivered = DynamoLocal.inserts("many", rows.slice(15_000, 15_100).map((r) => [r.tnNum, r.tnValue] as const))
      assert.deepStrictEqual(await live.handler(Events.batch(redelivered)), { batchItemFailures: [] })
      assert.deepInclude(live.summaries().at(-1), { applied: 0, duplicates: 100 })
    } finally {
      await live.dispose()
    }
    const again = await recount("many")
    assert.deepInclude(again, { applied: [] })
    assert.strictEqual(again.duplicates.length, rows.length)
    assert.deepInclude(await DynamoLocal.profileRow(names, "many"), { TotalTnValue: total })
  }, 300_000)
})
