/**
 * The function's inline policy, proven by an IAM evaluator rather than asserted: the real handler is
 * driven on DynamoDB Local through each path it has, every DynamoDB call its client sends is recorded
 * (`HandlerIam`), and each is evaluated against `FunctionPolicy.policyDocument`. Every other test file that
 * runs the handler feeds the same check (see support/HandlerIam.ts).
 */
import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb"
import * as Events from "@dyna/core/Events"
import type { DynamoDBStreamEvent } from "aws-lambda"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import acceptance from "../../../events/jam-task1.json" with { type: "json" }
import { PROFILE_ATTRIBUTES } from "../src/FunctionPolicy.js"
import * as DynamoLocal from "./support/DynamoLocal.js"
import * as HandlerIam from "./support/HandlerIam.js"
import * as IamCheck from "./support/IamCheck.js"
import * as Malformed from "./support/malformed.js"

let names: DynamoLocal.TableNames
const handlers: Array<ReturnType<typeof DynamoLocal.handler>> = []
const handlerWith = (faults: DynamoLocal.Faults = {}) => {
  const h = DynamoLocal.handler(names, { faults })
  handlers.push(h)
  return h
}
const recorded = () => handlers.map((h) => h.iam)
const requests = () => recorded().flatMap((r) => [...r.requests.values()])
const table = (name: string) => `arn:aws:dynamodb:${HandlerIam.location.region}:${HandlerIam.location.account}:table/${name}`

beforeAll(async () => {
  names = await DynamoLocal.freshTables()
  const plain = handlerWith()
  // First delivery, a redelivery of the same batch, a promotion (the profile and its event in one transaction).
  const first = Events.batch([...DynamoLocal.inserts("first", [[1, 100], [2, 200]]), ...DynamoLocal.inserts("promoted", [[1, 999]])])
  await plain.handler(first)
  await plain.handler(first)
  await plain.handler(Events.batch(DynamoLocal.inserts("promoted", [[2, 1]])))
  // The Jam's event: no SequenceNumber, no TnNum (applied unguarded).
  await plain.handler(acceptance as Parameters<typeof plain.handler>[0])
  // An existing Jam profile with a name and an email: only our attributes are written.
  await DynamoLocal.putItem(names.profiles, { CustID: { S: "jam" }, FirstName: { S: "Mary" }, Email: { S: "m@example.com" } })
  await plain.handler(Events.batch(DynamoLocal.inserts("jam", [[1, 5]])))
  // Every kind of malformed input, quarantined (or skipped) while the good records around it apply.
  let tnNum = 0
  for (const kind of Malformed.malformed) {
    const records = [...DynamoLocal.inserts("around", [[++tnNum, 1]]), ...(kind.records?.(DynamoLocal.nextSequenceNumber(), "around") ?? [])]
    // Malformed on purpose: the handler is what decodes it.
    await plain.handler((kind.event ?? { Records: records }) as DynamoDBStreamEvent).catch(() => undefined)
  }
  // An over-large profile: the write would pass 400 KB, so the customer's record is set aside.
  await DynamoLocal.putItem(names.profiles, { CustID: { S: "huge" }, Notes: { S: "x".repeat(Malformed.BIG - 2_000) } })
  await plain.handler(Events.batch(DynamoLocal.inserts("huge", Array.from({ length: 90 }, (_, i) => [i + 1, 1] as const))))
  // A lost race: the first conditional write fails, the profile is read again alone and written.
  let lost = false
  const racing = handlerWith({
    before: (command) => {
      if (command === "UpdateItemCommand" && !lost) {
        lost = true
        throw new ConditionalCheckFailedException({ message: "The conditional request failed", $metadata: {} })
      }
    }
  })
  await racing.handler(Events.batch(DynamoLocal.inserts("first", [[3, 1]])))
  // BatchGetItem leaving every key unprocessed: each profile is read with GetItem.
  const unread = handlerWith({
    answer: (command, output) =>
      command === "BatchGetItemCommand"
        ? { ...output, Responses: {}, UnprocessedKeys: { [names.profiles]: { Keys: [{ CustID: { S: "first" } }, { CustID: { S: "jam" } }] } } }
        : output
  })
  await unread.handler(Events.batch([...DynamoLocal.inserts("first", [[4, 1]]), ...DynamoLocal.inserts("jam", [[2, 1]])]))
  assert.isTrue(lost, "the lost race was not staged")
}, 120_000)

afterAll(() => Promise.all(handlers.map((h) => h.dispose())))

describe("the function's IAM policy", () => {
  it("allows every DynamoDB call the real handler made", async () => {
    assert.isAbove(requests().length, 0)
    assert.deepStrictEqual(await HandlerIam.denials(recorded()), [])
  })

  it("was reached on every path: each data-plane grant was used, the profile write named only our attributes", () => {
    const used = new Set(requests().map((r) => `${r.action} ${r.resource}`))
    for (
      const needed of [
        `dynamodb:BatchGetItem ${table(names.profiles)}`,
        `dynamodb:GetItem ${table(names.profiles)}`,
        `dynamodb:UpdateItem ${table(names.profiles)}`,
        `dynamodb:PutItem ${table(names.events)}`,
        `dynamodb:PutItem ${table(names.rejected)}`
      ]
    ) assert.isTrue(used.has(needed), `never made: ${needed}`)
    const written = new Set(requests().filter((r) => r.action === "dynamodb:UpdateItem").flatMap((r) => r.context?.["dynamodb:Attributes"] ?? []))
    assert.deepStrictEqual([...written].sort(), [...PROFILE_ATTRIBUTES].sort())
  })

  it("denies what the function must never do", async () => {
    const other = "SomeOtherTable"
    const forbidden: Array<IamCheck.IamRequest> = [
      ...[names.transactions, names.profiles, names.rejected, names.events, other].flatMap((t) =>
        ["Scan", "DeleteItem", "DeleteTable", "BatchWriteItem", "Query"].map((a) => ({ action: `dynamodb:${a}`, resource: table(t) }))
      ),
      { action: "dynamodb:UpdateItem", resource: table(names.transactions), context: { "dynamodb:Attributes": ["CustID", "TnNum", "TnValue"] } },
      { action: "dynamodb:PutItem", resource: table(names.transactions), context: { "dynamodb:Attributes": ["CustID", "TnNum", "TnValue"] } },
      { action: "dynamodb:GetItem", resource: table(names.transactions) },
      // A profile's other attributes: no rewriting a customer's name or email, no replacing the item.
      { action: "dynamodb:UpdateItem", resource: table(names.profiles), context: { "dynamodb:Attributes": ["CustID", "FirstName"] } },
      { action: "dynamodb:UpdateItem", resource: table(names.profiles), context: { "dynamodb:Attributes": ["CustID", "Email", "TotalTnValue"] } },
      { action: "dynamodb:PutItem", resource: table(names.profiles), context: { "dynamodb:Attributes": ["CustID", "TotalTnValue"] } },
      { action: "dynamodb:UpdateItem", resource: table(names.events), context: { "dynamodb:Attributes": ["CustID"] } },
      ...["GetItem", "BatchGetItem"].map((a) => ({ action: `dynamodb:${a}`, resource: table(other) })),
      { action: "dynamodb:UpdateItem", resource: table(other), context: { "dynamodb:Attributes": ["CustID"] } },
      { action: "dynamodb:PutItem", resource: table(other), context: { "dynamodb:Attributes": ["CustID"] } },
      { action: "dynamodb:GetRecords", resource: `${table(names.profiles)}/stream/2026-01-01T00:00:00.000` }
    ]
    const denied = await IamCheck.simulate(HandlerIam.policyFor(names), forbidden, HandlerIam.location)
    assert.deepStrictEqual(denied.filter((d) => d.decision === "Invalid"), [], "requests the evaluator could not run prove nothing")
    const allowed = forbidden.filter((f) => !denied.some((d) => IamCheck.requestKey(d.request) === IamCheck.requestKey(f)))
    assert.deepStrictEqual(allowed, [])
  })

  it("names only actions that exist, each on a resource of its type", async () => {
    assert.deepStrictEqual(await IamCheck.catalogue(HandlerIam.policyFor(names)), [])
  })

  it("would catch a missing grant: without BatchGetItem the recorded calls are denied", async () => {
    const policy = HandlerIam.policyFor(names)
    const narrowed = {
      ...policy,
      Statement: policy.Statement.map((s) => ({ ...s, Action: s.Action.filter((a) => a !== "dynamodb:BatchGetItem") }))
        .filter((s) => s.Action.length > 0)
    }
    const denied = await IamCheck.simulate(narrowed, requests(), HandlerIam.location)
    assert.deepStrictEqual([...new Set(denied.map((d) => d.request.action))], ["dynamodb:BatchGetItem"])
  })
})

describe("sdkCallToIam", () => {
  it("authorizes a TransactWriteItems item by item, with the attributes each touches", () => {
    const requests = IamCheck.sdkCallToIam("dynamodb", "TransactWriteItemsCommand", {
      TransactItems: [
        {
          Update: {
            TableName: "P",
            Key: { CustID: { S: "c" } },
            UpdateExpression: "SET TotalTnValue = :t, #s = :s, AppliedTn.#k = :a REMOVE EliteSince",
            ConditionExpression: "attribute_not_exists(ProfileVersion) OR ProfileVersion = :prev",
            ExpressionAttributeNames: { "#s": "CustStatus", "#k": "nested" }
          }
        },
        { Put: { TableName: "E", Item: { CustID: { S: "c" }, At: { S: "now" } } } },
        { ConditionCheck: { TableName: "T", Key: { CustID: { S: "c" } }, ConditionExpression: "attribute_exists(CustID)" } }
      ]
    }, HandlerIam.location)
    assert.deepStrictEqual(requests.map((r) => [r.action, r.resource.split("/")[1], r.context?.["dynamodb:Attributes"]]), [
      ["dynamodb:UpdateItem", "P", ["AppliedTn", "CustID", "CustStatus", "EliteSince", "ProfileVersion", "TotalTnValue"]],
      ["dynamodb:PutItem", "E", ["At", "CustID"]],
      ["dynamodb:ConditionCheckItem", "T", undefined]
    ])
  })

  it("fails loudly on a command it does not know", () => {
    assert.throws(() => IamCheck.sdkCallToIam("dynamodb", "ExecuteStatementCommand", { Statement: "SELECT * FROM P" }, HandlerIam.location), /no IAM mapping/)
  })
})
