import { DescribeTableCommand, UpdateTableCommand } from "@aws-sdk/client-dynamodb"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { assert, describe, it } from "vitest"
import { DynamoDb } from "@dyna/aws/DynamoDb"
import { ensureStream, ensureTable, transactionsTable } from "../src/provision/TableSteps.js"
import * as DynamoLocal from "../../aws/test/support/DynamoLocal.js"

const run = <A, E>(effect: Effect.Effect<A, E, DynamoDb>) =>
  Effect.runPromise(effect.pipe(Effect.provide(Layer.succeed(DynamoDb, DynamoDb.fromClient(DynamoLocal.client(), "test")))))

const describeTable = (name: string) => DynamoLocal.client().send(new DescribeTableCommand({ TableName: name }))

describe("provisioning steps", () => {
  it("create a table once, then leave it unchanged", async () => {
    const name = `prov-${Date.now()}`
    const first = await run(ensureTable(transactionsTable(name)))
    const second = await run(ensureTable(transactionsTable(name)))
    assert.strictEqual(first.action, "created")
    assert.strictEqual(second.action, "unchanged")
    const { Table } = await describeTable(name)
    assert.deepStrictEqual(Table?.KeySchema, [{ AttributeName: "CustID", KeyType: "HASH" }, { AttributeName: "TnNum", KeyType: "RANGE" }])
  })

  it("enable a NEW_IMAGE stream once, and replace a KEYS_ONLY one with a new stream ARN", async () => {
    const name = `prov-stream-${Date.now()}`
    await run(ensureTable(transactionsTable(name)))
    const enabled = await run(ensureStream(name))
    assert.strictEqual(enabled.action, "created")
    assert.strictEqual((await run(ensureStream(name))).action, "unchanged")

    // A Jam table may come with a KEYS_ONLY stream, which carries no TnValue.
    await DynamoLocal.client().send(new UpdateTableCommand({ TableName: name, StreamSpecification: { StreamEnabled: false } }))
    await DynamoLocal.client().send(new UpdateTableCommand({
      TableName: name,
      StreamSpecification: { StreamEnabled: true, StreamViewType: "KEYS_ONLY" }
    }))
    const keysOnlyArn = (await describeTable(name)).Table?.LatestStreamArn
    const replaced = await run(ensureStream(name))
    assert.strictEqual(replaced.action, "updated")
    const { Table } = await describeTable(name)
    assert.strictEqual(Table?.StreamSpecification?.StreamViewType, "NEW_IMAGE")
    assert.notStrictEqual(Table?.LatestStreamArn, keysOnlyArn)
    assert.strictEqual(replaced.resource, Table?.LatestStreamArn)
  })
})
