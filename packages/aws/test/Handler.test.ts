import * as Events from "@dyna/core/Events"
import type { DynamoDBRecord } from "aws-lambda"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import acceptance from "../../../events/jam-task1.json" with { type: "json" }
import * as DynamoLocal from "./support/DynamoLocal.js"

let names: DynamoLocal.TableNames
let live: ReturnType<typeof DynamoLocal.handler>

beforeAll(async () => {
  names = await DynamoLocal.freshTables()
  live = DynamoLocal.handler(names)
})
afterAll(() => live.dispose())

let seq = 0
/** INSERT records for one customer, each with a fresh sequence number. */
const inserts = (custId: string, values: ReadonlyArray<readonly [tnNum: number, tnValue: number]>): Array<DynamoDBRecord> =>
  values.map(([tnNum, tnValue]) => Events.insert({ custId, tnNum, tnValue, sequenceNumber: Events.sequenceNumber(++seq) }))

describe("handler on DynamoDB Local", () => {
  it("passes the Jam's acceptance event: task1test1record has 250 / Normal", async () => {
    const response = await live.handler(acceptance as Parameters<typeof live.handler>[0])
    assert.deepStrictEqual(response, { batchItemFailures: [] })
    const row = await DynamoLocal.profileRow(names, "task1test1record")
    assert.strictEqual(row?.TotalTnValue, 250)
    assert.strictEqual(row?.CustStatus, "Normal")
    const line = live.logs.find((l) => l.message === "applied unguarded: no TnNum or SequenceNumber to recognise a repeat by")
    assert.isDefined(line)
  })

  it("keeps 999 Normal and turns Elite at exactly 1000", async () => {
    await live.handler(Events.batch(inserts("edge", [[1, 500], [2, 499]])))
    assert.deepInclude(await DynamoLocal.profileRow(names, "edge"), { TotalTnValue: 999, CustStatus: "Normal" })
    await live.handler(Events.batch(inserts("edge", [[3, 1]])))
    assert.deepInclude(await DynamoLocal.profileRow(names, "edge"), { TotalTnValue: 1000, CustStatus: "Elite" })
  })

  it("counts a batch delivered three times once", async () => {
    const event = Events.batch([...inserts("thrice-a", [[1, 100], [2, 200]]), ...inserts("thrice-b", [[1, 900], [2, 150]])])
    for (let i = 0; i < 3; i++) assert.deepStrictEqual(await live.handler(event), { batchItemFailures: [] })
    assert.deepInclude(await DynamoLocal.profileRow(names, "thrice-a"), { TotalTnValue: 300, CustStatus: "Normal" })
    assert.deepInclude(await DynamoLocal.profileRow(names, "thrice-b"), { TotalTnValue: 1050, CustStatus: "Elite" })
    const summaries = live.logs.filter((l) => l.message === "batch processed").slice(-2)
    assert.deepInclude(summaries[1]?.annotations, { records: 4, applied: 0, duplicates: 4 })
  })

  it("counts overlapping batches and in-batch repeats once", async () => {
    const [a, b, c, d] = inserts("overlap", [[1, 10], [2, 20], [3, 30], [4, 40]])
    if (!a || !b || !c || !d) throw new Error("fixture")
    await live.handler(Events.batch([a, b, c]))
    await live.handler(Events.batch([b, c, d, d]))
    assert.deepInclude(await DynamoLocal.profileRow(names, "overlap"), { TotalTnValue: 100 })
  })

  it("skips MODIFY and REMOVE and counts them in the log line", async () => {
    const event = Events.batch([
      ...inserts("changes", [[1, 40]]),
      Events.change("MODIFY", { custId: "changes", tnNum: 1, tnValue: 4000, sequenceNumber: Events.sequenceNumber(++seq) }),
      Events.change("REMOVE", { custId: "changes", tnNum: 1, tnValue: 40, sequenceNumber: Events.sequenceNumber(++seq) })
    ])
    assert.deepStrictEqual(await live.handler(event), { batchItemFailures: [] })
    assert.deepInclude(await DynamoLocal.profileRow(names, "changes"), { TotalTnValue: 40 })
    assert.deepInclude(live.logs.filter((l) => l.message === "batch processed").at(-1)?.annotations, {
      records: 3,
      applied: 1,
      skipped: 2,
      failed: 0
    })
  })

  it("keeps every attribute an existing profile has and adds to its total", async () => {
    await DynamoLocal.putItem(names.profiles, {
      CustID: { S: "jam-customer" },
      FirstName: { S: "Mary" },
      Email: { S: "mary@example.com" },
      TotalTnValue: { N: "900" },
      CustStatus: { S: "Normal" }
    })
    await live.handler(Events.batch(inserts("jam-customer", [[1, 150]])))
    assert.deepInclude(await DynamoLocal.profileRow(names, "jam-customer"), {
      FirstName: "Mary",
      Email: "mary@example.com",
      TotalTnValue: 1050,
      CustStatus: "Elite"
    })
  })
})
