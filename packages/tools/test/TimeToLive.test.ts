/**
 * The quarantine table's TTL step, on a real DynamoDBClient whose control-plane answers come from
 * aws-sdk-client-mock: decide only describes, apply only enables, and each state decides as it should.
 */
import { DescribeTimeToLiveCommand, DynamoDBClient, UpdateTimeToLiveCommand } from "@aws-sdk/client-dynamodb"
import { mockClient } from "aws-sdk-client-mock"
import * as Effect from "effect/Effect"
import { afterEach, assert, describe, it } from "vitest"
import { DynamoDb } from "@dyna/aws/DynamoDb"
import * as TimeToLive from "../src/provision/TimeToLive.js"

const client = new DynamoDBClient({ region: "us-east-1", credentials: { accessKeyId: "test", secretAccessKey: "test" }, maxAttempts: 1 })
const mock = mockClient(client)
afterEach(() => mock.reset())

const run = <A, E>(effect: Effect.Effect<A, E, DynamoDb>) =>
  Effect.runPromise(effect.pipe(Effect.provideService(DynamoDb, DynamoDb.fromClient(client, "https://dynamodb.us-east-1.amazonaws.com"))))

const describing = (description: { readonly TimeToLiveStatus?: "ENABLED" | "ENABLING" | "DISABLED" | "DISABLING"; readonly AttributeName?: string } | undefined) =>
  mock.on(DescribeTimeToLiveCommand, { TableName: "CustTransactionsRejected" }).resolves({ TimeToLiveDescription: description })

const sent = () => mock.calls().map((call) => call.args[0].constructor.name)

describe("the quarantine's TTL step", () => {
  it("decides to enable TTL on ExpiresAt when it is off, sending only DescribeTimeToLive, and enables it when applied", async () => {
    describing({ TimeToLiveStatus: "DISABLED" })
    mock.on(UpdateTimeToLiveCommand).resolves({ TimeToLiveSpecification: { Enabled: true, AttributeName: "ExpiresAt" } })
    const decision = await run(TimeToLive.step("CustTransactionsRejected").decide)
    assert.deepStrictEqual(sent(), ["DescribeTimeToLiveCommand"])
    assert.deepInclude(decision, { action: "updated", resource: "CustTransactionsRejected TTL on ExpiresAt", detail: "enable" })
    assert.isUndefined(decision.risk)
    assert.isDefined(decision.apply)
    const outcome = decision.apply === undefined ? undefined : await run(decision.apply)
    assert.deepStrictEqual(outcome, { action: "updated", resource: "CustTransactionsRejected TTL on ExpiresAt", detail: "enabling" })
    assert.deepStrictEqual(sent(), ["DescribeTimeToLiveCommand", "UpdateTimeToLiveCommand"])
    assert.deepStrictEqual(mock.commandCalls(UpdateTimeToLiveCommand)[0]?.args[0].input, {
      TableName: "CustTransactionsRejected",
      TimeToLiveSpecification: { Enabled: true, AttributeName: "ExpiresAt" }
    })
  })

  it("enables it when the table has never had a TTL description", async () => {
    describing(undefined)
    assert.strictEqual((await run(TimeToLive.decide("CustTransactionsRejected"))).action, "updated")
  })

  for (const status of ["ENABLED", "ENABLING"] as const) {
    it(`changes nothing when TTL on ExpiresAt is ${status.toLowerCase()}`, async () => {
      describing({ TimeToLiveStatus: status, AttributeName: "ExpiresAt" })
      const decision = await run(TimeToLive.decide("CustTransactionsRejected"))
      assert.deepStrictEqual(decision, { action: "unchanged", resource: "CustTransactionsRejected TTL on ExpiresAt", detail: status.toLowerCase() })
      assert.deepStrictEqual(sent(), ["DescribeTimeToLiveCommand"])
    })
  }

  it("keeps a TTL someone set on another attribute, and says the quarantine does not expire", async () => {
    describing({ TimeToLiveStatus: "ENABLED", AttributeName: "DeleteAfter" })
    const decision = await run(TimeToLive.decide("CustTransactionsRejected"))
    assert.strictEqual(decision.action, "kept")
    assert.isUndefined(decision.apply)
    assert.include(decision.detail, "TTL is on DeleteAfter")
  })

  it("waits for a TTL being disabled instead of sending a change DynamoDB would refuse", async () => {
    describing({ TimeToLiveStatus: "DISABLING", AttributeName: "ExpiresAt" })
    const decision = await run(TimeToLive.decide("CustTransactionsRejected"))
    assert.strictEqual(decision.action, "kept")
    assert.isUndefined(decision.apply)
    assert.include(decision.detail, "being disabled")
  })

  it("fails with the table's DynamoDbError when DescribeTimeToLive fails", async () => {
    mock.on(DescribeTimeToLiveCommand).rejects(Object.assign(new Error("Requested resource not found"), { name: "ResourceNotFoundException" }))
    const exit = await Effect.runPromiseExit(TimeToLive.decide("CustTransactionsRejected").pipe(
      Effect.provideService(DynamoDb, DynamoDb.fromClient(client, "https://dynamodb.us-east-1.amazonaws.com"))
    ))
    assert.strictEqual(exit._tag, "Failure")
    assert.include(JSON.stringify(exit), "DescribeTimeToLive")
  })
})
