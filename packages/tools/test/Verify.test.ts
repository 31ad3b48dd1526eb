/**
 * What `pnpm verify` cleans up after its test customer, on DynamoDB Local: the EliteQualified event the
 * real handler wrote when it promoted them and every applied-log page under a negative ProfileVersion,
 * over more than one Query page; another customer's events stay.
 */
import * as Events from "@dyna/core/Events"
import * as AppliedPages from "@dyna/core/AppliedPages"
import { assert, describe, it } from "vitest"
import * as Verify from "../src/Verify.js"
import * as DynamoLocal from "../../aws/test/support/DynamoLocal.js"

const live = DynamoLocal.useHandler()

const deliver = async (custId: string, values: ReadonlyArray<readonly [number, number]>) => {
  const response = await live.live.handler(Events.batch(DynamoLocal.inserts(custId, values)))
  assert.deepStrictEqual(response.batchItemFailures, [])
}

const customersIn = async (table: string) => (await DynamoLocal.scanTable(table)).map((item) => String(item.CustID))

describe("Verify.deleteEvents", () => {
  it("removes every CustEliteEvents item of the customer, its event and its applied-log pages, and no one else's", async () => {
    const { names } = live
    const tester = "dyna-verify-0000test"
    await deliver(tester, [[1, 400], [2, 350], [3, 300]])
    await deliver("keeper", [[1, 1200]])
    // Four pages of ~350 KB each: more than one Query page (1 MB) to read.
    for (const k of [0, 1, 2, 3]) {
      await DynamoLocal.putItem(names.events, {
        CustID: { S: tester },
        ProfileVersion: { N: AppliedPages.pageKey("1000", k) },
        Ids: { S: "x".repeat(350_000) }
      })
    }
    assert.deepStrictEqual((await customersIn(names.events)).filter((c) => c === tester).length, 5)

    await DynamoLocal.run(names, Verify.deleteEvents(tester))

    assert.deepStrictEqual(await customersIn(names.events), ["keeper"])
  })
})
