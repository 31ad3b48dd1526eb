/**
 * The DynamoDb service: the SDK's exceptions classified once, DynamoDB Local reached through the
 * configured endpoint, and the messages a person reads when nothing listens or a call is denied.
 */
import {
  ConditionalCheckFailedException,
  DescribeTableCommand,
  DynamoDBClient,
  TransactWriteItemsCommand,
  ProvisionedThroughputExceededException,
  ResourceNotFoundException,
  TransactionCanceledException
} from "@aws-sdk/client-dynamodb"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Environment from "../src/Environment.js"
import { createServer } from "node:net"
import { assert, describe, it } from "vitest"
import { DynamoDb, DynamoDbError, kindOf } from "../src/DynamoDb.js"
import * as Retry from "../src/Retry.js"
import * as DynamoLocal from "./support/DynamoLocal.js"
import * as Recorder from "./support/Recorder.js"

/** A TCP port nobody listens on right now. */
const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer()
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })

/** What DynamoDB answers a caller without permission for the action (HTTP 400, as the service does). */
const denied = (action: string, resource: string) =>
  Recorder.dynamoJson(400, {
    __type: "com.amazon.coral.service#AccessDeniedException",
    message: `User: arn:aws:sts::123456789012:assumed-role/Dev/me is not authorized to perform: dynamodb:${action} on resource: ${resource}`
  })
const signedClient = <C>(make: (config: { region: string; credentials: typeof Recorder.credentials; requestHandler: object }) => C, answer: Recorder.Answer) =>
  make({ region: "eu-west-1", credentials: Recorder.credentials, requestHandler: Recorder.recorder(() => answer).handler })

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
    const config = Environment.layer({ AWS_ENDPOINT_URL_DYNAMODB: DynamoLocal.endpoint() })
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
    const port = await freePort()
    const config = Environment.layer({ AWS_ENDPOINT_URL_DYNAMODB: `http://127.0.0.1:${port}` })
    const error = await Effect.runPromise(Effect.gen(function*() {
      const db = yield* DynamoDb
      return yield* db.call("DescribeTable", (c) => c.send(new DescribeTableCommand({ TableName: "x" })))
    }).pipe(Effect.flip, Effect.provide(DynamoDb.layer.pipe(Layer.provide(config)))))
    assert.strictEqual(error.kind, "Unreachable")
    assert.include(error.message, `DynamoDB is not reachable at http://127.0.0.1:${port}`)
    assert.include(error.message, "pnpm provision")
  })

  it("sends an unreachable DynamoDB on AWS to the network and the region, not to the local stack", () => {
    const cause = Object.assign(new Error("getaddrinfo ENOTFOUND dynamodb.xx-east-9.amazonaws.com"), { code: "ENOTFOUND" })
    const error = new DynamoDbError({ operation: "DescribeTable", kind: "Unreachable", endpoint: "dynamodb.xx-east-9.amazonaws.com", cause })
    assert.strictEqual(
      error.message,
      "DynamoDB is not reachable at dynamodb.xx-east-9.amazonaws.com (DescribeTable: getaddrinfo ENOTFOUND dynamodb.xx-east-9.amazonaws.com); check the network connection and the region (--region or AWS_REGION)"
    )
  })

  it("says a denied call is a permission problem, naming the action and the table from the call's input", async () => {
    const tableArn = "arn:aws:dynamodb:eu-west-1:123456789012:table/CustProfile"
    const client = signedClient((c) => new DynamoDBClient(c), denied("DescribeTable", tableArn))
    const error = await Effect.runPromise(
      DynamoDb.fromClient(client, "dynamodb.eu-west-1.amazonaws.com")
        .call("DescribeTable", (c) => c.send(new DescribeTableCommand({ TableName: "CustProfile" })))
        .pipe(Effect.flip)
    )
    assert.strictEqual(error.kind, "AccessDenied")
    assert.strictEqual(
      error.message,
      `DynamoDB DescribeTable on table CustProfile was denied (User: arn:aws:sts::123456789012:assumed-role/Dev/me is not authorized to perform: dynamodb:DescribeTable on resource: ${tableArn}): the AWS credentials in use need permission for dynamodb:DescribeTable on table CustProfile`
    )
    // Not worth another try: the retry policies see it as they saw "Other".
    assert.isFalse(Retry.isTransient(error))
  })

  it("names every table of a denied transaction", async () => {
    const client = signedClient((c) => new DynamoDBClient(c), denied("TransactWriteItems", "*"))
    const transaction = await Effect.runPromise(
      DynamoDb.fromClient(client, "aws").call("TransactWriteItems", (c) =>
        c.send(new TransactWriteItemsCommand({
          TransactItems: [
            { Put: { TableName: "CustTransactions", Item: { CustID: { S: "c" } } } },
            { Update: { TableName: "CustProfile", Key: { CustID: { S: "c" } }, UpdateExpression: "SET A = :a", ExpressionAttributeValues: { ":a": { N: "1" } } } }
          ]
        }))).pipe(Effect.flip)
    )
    assert.strictEqual(transaction.kind, "AccessDenied")
    assert.include(transaction.message, "need permission for dynamodb:TransactWriteItems on tables CustTransactions, CustProfile")
  })
})
