/**
 * Metrics: the EMF object built from an invocation's values, read back by `decode`, and the one line
 * the real handler prints per invocation on DynamoDB Local, checked against what the batch did.
 */
import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb"
import * as Events from "@dyna/core/Events"
import * as Environment from "../src/Environment.js"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { assert, describe, it } from "vitest"
import * as Metrics from "../src/Metrics.js"
import * as DynamoLocal from "./support/DynamoLocal.js"

const values: Metrics.Values = {
  RecordsReceived: 6,
  RecordsApplied: 3,
  DuplicatesSkipped: 1,
  Unguarded: 0,
  Quarantined: 1,
  Retried: 1,
  Promotions: 1,
  RacesLost: 2,
  ProfileWrites: 2,
  WriteUnits: 7,
  BatchDuration: 42
}

describe("the EMF line", () => {
  it("declares the namespace, the dimension and every metric with its unit, and holds the values at the top level", () => {
    const line = Metrics.line(values, "fn-a", 1_700_000_000_000)
    assert.deepStrictEqual(line._aws, {
      Timestamp: 1_700_000_000_000,
      CloudWatchMetrics: [{
        Namespace: "DynaElite",
        Dimensions: [["FunctionName"]],
        Metrics: [
          { Name: "RecordsReceived", Unit: "Count" },
          { Name: "RecordsApplied", Unit: "Count" },
          { Name: "DuplicatesSkipped", Unit: "Count" },
          { Name: "Unguarded", Unit: "Count" },
          { Name: "Quarantined", Unit: "Count" },
          { Name: "Retried", Unit: "Count" },
          { Name: "Promotions", Unit: "Count" },
          { Name: "RacesLost", Unit: "Count" },
          { Name: "ProfileWrites", Unit: "Count" },
          { Name: "WriteUnits", Unit: "Count" },
          { Name: "BatchDuration", Unit: "Milliseconds" }
        ]
      }]
    })
    assert.deepStrictEqual({ ...line, _aws: undefined }, { _aws: undefined, FunctionName: "fn-a", ...values })
  })

  it("reads back what it wrote, and nothing from other lines", () => {
    const text = JSON.stringify(Metrics.line(values, "fn-a", 1_700_000_000_000))
    assert.deepStrictEqual(Metrics.decode(text), {
      timestamp: 1_700_000_000_000,
      namespaces: ["DynaElite"],
      functionName: "fn-a",
      names: [...Metrics.NAMES],
      values
    })
    assert.deepStrictEqual(Metrics.emittedNames(text), Object.keys(Metrics.METRICS))
    for (const other of ['{"message":"batch processed","level":"INFO"}', "runner: stopped", "", '{"_aws":{"Timestamp":"x"}}']) {
      assert.isUndefined(Metrics.decode(other), other)
      assert.deepStrictEqual(Metrics.emittedNames(other), [])
    }
  })

  it("names the function from AWS_LAMBDA_FUNCTION_NAME, and says it is unnamed without it", async () => {
    const emitted = async (env: Record<string, string>) => {
      const printed: Array<string> = []
      await Effect.runPromise(Metrics.emit(values).pipe(
        Effect.provide(Layer.merge(DynamoLocal.printing(printed), Environment.layer(env)))
      ))
      assert.strictEqual(printed.length, 1)
      return Metrics.decode(printed[0] ?? "")?.functionName
    }
    assert.strictEqual(await emitted({ AWS_LAMBDA_FUNCTION_NAME: "dev-JAM_Lambda_Exec_Function_EDIT_THIS" }), "dev-JAM_Lambda_Exec_Function_EDIT_THIS")
    assert.strictEqual(await emitted({}), Metrics.UNNAMED)
  })
})

describe("the handler's EMF line, on DynamoDB Local", () => {
  const fresh = DynamoLocal.perTest()
  const { handlerWith } = fresh

  it("prints one line per invocation that counts what the batch did", async () => {
    const h = handlerWith()
    const [promoted1, promoted2] = DynamoLocal.inserts("emf-elite", [[1, 600], [2, 500]])
    const [normal] = DynamoLocal.inserts("emf-normal", [[1, 50]])
    const event = Events.batch([
      ...(promoted1 && promoted2 && normal ? [promoted1, promoted2, normal] : []),
      // The same transaction again, delivered under a later sequence number: a duplicate.
      Events.insert({ custId: "emf-normal", tnNum: 1, tnValue: 50, sequenceNumber: DynamoLocal.nextSequenceNumber() }),
      Events.insert({ custId: "emf-bad", tnNum: 1, tnValue: "abc", sequenceNumber: DynamoLocal.nextSequenceNumber() })
    ])
    assert.strictEqual(event.Records.length, 5)
    assert.deepStrictEqual(await h.handler(event), { batchItemFailures: [] })

    assert.strictEqual(h.printed.length, 1)
    const [emitted] = h.metrics()
    assert.deepStrictEqual(emitted?.namespaces, ["DynaElite"])
    assert.deepStrictEqual(emitted?.names, Object.keys(Metrics.METRICS))
    assert.strictEqual(emitted?.functionName, Metrics.UNNAMED)
    const { WriteUnits, BatchDuration, ...counts } = emitted?.values ?? {}
    assert.deepStrictEqual(counts, {
      RecordsReceived: 5,
      RecordsApplied: 3,
      DuplicatesSkipped: 1,
      Unguarded: 0,
      Quarantined: 1,
      Retried: 0,
      Promotions: 1,
      RacesLost: 0,
      ProfileWrites: 2
    })
    // A promotion's transaction writes two items (twice the units each), the other profile and the quarantine one each.
    assert.isAtLeast(WriteUnits ?? 0, 6)
    assert.isAtLeast(BatchDuration ?? -1, 0)
    // The log line counts the same.
    assert.deepInclude(h.summaries().at(-1), { applied: 3, duplicates: 1, quarantined: 1, promotions: 1, profileWrites: 2, writeUnits: WriteUnits })

    // Delivered again: all duplicates, nothing written.
    await h.handler(event)
    assert.deepInclude(h.metrics()[1]?.values, { RecordsApplied: 0, DuplicatesSkipped: 4, Quarantined: 0, ProfileWrites: 0, WriteUnits: 0 })
  })

  it("counts a conditional write that lost a race and was tried again", async () => {
    let lost = false
    const h = handlerWith({
      before: (command) => {
        if (command === "UpdateItemCommand" && !lost) {
          lost = true
          throw new ConditionalCheckFailedException({ message: "The conditional request failed", $metadata: {} })
        }
      }
    })
    assert.deepStrictEqual(await h.handler(Events.batch(DynamoLocal.inserts("emf-race", [[1, 10]]))), { batchItemFailures: [] })
    assert.deepInclude(h.metrics()[0]?.values, { RecordsApplied: 1, RacesLost: 1, ProfileWrites: 1, Retried: 0 })
  })

  it("counts the races of a customer whose records are delivered again", async () => {
    const h = handlerWith({
      before: (command) => {
        if (command === "UpdateItemCommand") {
          throw new ConditionalCheckFailedException({ message: "The conditional request failed", $metadata: {} })
        }
      }
    })
    const response = await h.handler(Events.batch(DynamoLocal.inserts("emf-lost", [[1, 10]])))
    assert.strictEqual(response.batchItemFailures.length, 1)
    const lost = h.metrics()[0]?.values
    assert.deepInclude(lost, { RecordsApplied: 0, Retried: 1, ProfileWrites: 0 })
    // Retry.lostRace: the first try and 8 more.
    assert.strictEqual(lost?.RacesLost, 9)
  }, 20_000)
})
