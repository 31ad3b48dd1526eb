import { QueryCommand } from "@aws-sdk/client-dynamodb"
import * as Effect from "effect/Effect"
import { assert, beforeAll, describe, it } from "vitest"
import { DynamoDb } from "../src/DynamoDb.js"
import * as Pages from "../src/Pages.js"
import { Tables } from "../src/Tables.js"
import { TransactionStore } from "../src/TransactionStore.js"
import * as DynamoLocal from "./support/DynamoLocal.js"

let names: DynamoLocal.TableNames

beforeAll(async () => {
  names = await DynamoLocal.freshTables()
  const db = DynamoLocal.client()
  await DynamoLocal.putRows(db, names.transactions, [
    ...Array.from({ length: 7 }, (_, i) => ({ custId: "p-7", tnNum: i + 1, tnValue: 10 })),
    ...Array.from({ length: 6 }, (_, i) => ({ custId: "p-6", tnNum: i + 1, tnValue: 20 }))
  ])
  db.destroy()
})

/** One customer's rows, `limit` to a page: DynamoDB Local pages them as AWS would. */
const queryFrom = (custId: string, limit: number) =>
  Effect.gen(function*() {
    const db = yield* DynamoDb
    const tables = yield* Tables
    return (startKey: Pages.StartKey) =>
      db.call("Query", (c) =>
        c.send(new QueryCommand({
          TableName: tables.transactions,
          KeyConditionExpression: "CustID = :c",
          ExpressionAttributeValues: { ":c": { S: custId } },
          ConsistentRead: true,
          Limit: limit,
          ExclusiveStartKey: startKey
        })))
  })

describe("Pages", () => {
  it("follows LastEvaluatedKey page by page, in order, until a page has none", async () => {
    const pages = await DynamoLocal.run(names, Effect.gen(function*() {
      const seen: Array<ReadonlyArray<string | undefined>> = []
      yield* Pages.forEach(yield* queryFrom("p-7", 2), (items) => Effect.sync(() => void seen.push(items.map((i) => i.TnNum?.N))))
      return seen
    }))
    assert.deepStrictEqual(pages, [["1", "2"], ["3", "4"], ["5", "6"], ["7"]])
  })

  it("gathers every item of every page, in order, when the last page is full", async () => {
    const items = await DynamoLocal.run(names, Effect.gen(function*() {
      return yield* Pages.all(yield* queryFrom("p-6", 3))
    }))
    assert.deepStrictEqual(items.map((i) => i.TnNum?.N), ["1", "2", "3", "4", "5", "6"])
  })

  it("reads every row of a customer through TransactionStore, as the tools' live services provide it", async () => {
    const rows = await DynamoLocal.run(names, Effect.gen(function*() {
      return yield* (yield* TransactionStore).ofCustomer("p-7")
    }))
    assert.deepStrictEqual(rows.map((r) => [r.tnNum, r.tnValue]), Array.from({ length: 7 }, (_, i) => [String(i + 1), 10]))
  })
})
