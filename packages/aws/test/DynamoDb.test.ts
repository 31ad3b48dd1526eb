import {
  ConditionalCheckFailedException,
  DescribeTableCommand,
  ProvisionedThroughputExceededException,
  ResourceNotFoundException,
  TransactionCanceledException
} from "@aws-sdk/client-dynamodb"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ConfigProvider from "effect/ConfigProvider"
import { assert, describe, it } from "vitest"
import { DynamoDb, kindOf } from "../src/DynamoDb.js"
import { freePort } from "../src/local/DynamoDbLocal.js"
import * as DynamoLocal from "./support/DynamoLocal.js"

describe("DynamoDb", () => {
  it("classifies the SDK's exceptions", () => {
    const meta = { $metadata: {} }
    assert.strictEqual(kindOf(new ConditionalCheckFailedException({ message: "no", ...meta })), "ConditionFailed")
    assert.strictEqual(kindOf(new ProvisionedThroughputExceededException({ message: "slow", ...meta })), "Transient")
    assert.strictEqual(kindOf(new ResourceNotFoundException({ message: "gone", ...meta })), "NotFound")
    assert.strictEqual(kindOf(Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" })), "Unreachable")
    assert.strictEqual(kindOf(new Error("something else")), "Other")
  })

  it("reads a cancelled transaction by its reasons: a failed condition is a lost race, a conflict is worth retrying", () => {
    const cancelled = (...codes: Array<string>) =>
      new TransactionCanceledException({ message: "cancelled", $metadata: {}, CancellationReasons: codes.map((Code) => ({ Code })) })
    assert.strictEqual(kindOf(cancelled("ConditionalCheckFailed", "None")), "ConditionFailed")
    assert.strictEqual(kindOf(cancelled("None", "TransactionConflict")), "Transient")
    assert.strictEqual(kindOf(cancelled("ThrottlingError", "None")), "Transient")
    assert.strictEqual(kindOf(cancelled("ValidationError")), "Other")
  })

  it("reaches DynamoDB Local through the configured endpoint, with placeholder credentials", async () => {
    const config = ConfigProvider.layer(ConfigProvider.fromUnknown({ AWS_ENDPOINT_URL_DYNAMODB: DynamoLocal.endpoint() }))
    const error = await Effect.runPromise(Effect.gen(function*() {
      const db = yield* DynamoDb
      return yield* db.call("DescribeTable", (c) => c.send(new DescribeTableCommand({ TableName: "missing-table" })))
    }).pipe(
      Effect.flip,
      Effect.provide(DynamoDb.layer.pipe(Layer.provide(config)))
    ))
    // Reached, authenticated and answered: only the table is missing.
    assert.strictEqual(error.kind, "NotFound")
  })

  it("says plainly when nothing listens at the endpoint", async () => {
    const port = await Effect.runPromise(freePort)
    const config = ConfigProvider.layer(ConfigProvider.fromUnknown({ AWS_ENDPOINT_URL_DYNAMODB: `http://127.0.0.1:${port}` }))
    const error = await Effect.runPromise(Effect.gen(function*() {
      const db = yield* DynamoDb
      return yield* db.call("DescribeTable", (c) => c.send(new DescribeTableCommand({ TableName: "x" })))
    }).pipe(Effect.flip, Effect.provide(DynamoDb.layer.pipe(Layer.provide(config)))))
    assert.strictEqual(error.kind, "Unreachable")
    assert.include(error.message, `DynamoDB is not reachable at http://127.0.0.1:${port}`)
    assert.include(error.message, "pnpm provision")
  })
})
