/**
 * `pnpm teardown --target aws` against a pretend account provisioned by `awsSteps` first: what it deletes
 * on a fresh account and on the Jam's (whose function and role it must keep), that a second run deletes
 * nothing, and verify's `invoke`. Time is a TestClock.
 */
import { DeleteTableCommand } from "@aws-sdk/client-dynamodb"
import { DeleteRoleCommand, DeleteRolePolicyCommand } from "@aws-sdk/client-iam"
import {
  DeleteEventSourceMappingCommand,
  DeleteFunctionCommand,
  GetEventSourceMappingCommand,
  InvokeCommand
} from "@aws-sdk/client-lambda"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { assert, beforeAll, describe, it } from "vitest"
import acceptance from "../../../events/jam-task1.json" with { type: "json" }
import * as Deployment from "../src/Deployment.js"
import { awsSteps } from "../src/provision/AwsSteps.js"
import { awsTeardownSteps } from "../src/provision/AwsTeardown.js"
import * as Bundle from "../src/provision/Bundle.js"
import * as LambdaFunction from "../src/provision/Function.js"
import * as FakeAws from "./support/FakeAws.js"
import * as RunSteps from "./support/RunSteps.js"

const names = Deployment.names()
const FUNCTION = "JAM_Lambda_Exec_Function_EDIT_THIS"
const POLICY = "DynaEliteStreamAndTables"

// The real artifact, bundled by esbuild once for the file.
let artifact: Bundle.Artifact
beforeAll(async () => {
  artifact = await Effect.runPromise(Bundle.make)
}, 60_000)

/** Provisions the account as `pnpm provision --target aws` would, then forgets what that sent. */
const provisioned = async () => {
  await RunSteps.succeeded(awsSteps(names, Effect.sync(() => artifact)))
  RunSteps.forgetRequests()
}

const teardown = (deleteData = false) => RunSteps.succeeded(awsTeardownSteps(names, { deleteData }))

const { sent, forgetRequests, mutating } = RunSteps
const input = <I>(calls: ReadonlyArray<{ readonly args: readonly [{ readonly input: I }, ...Array<unknown>] }>) => calls.map((c) => c.args[0].input)

describe("teardown on AWS", () => {
  it("deletes what provision created on a fresh account, waits for the mappings to go, and keeps the tables", async () => {
    const account = FakeAws.account()
    await provisioned()
    const [created] = account.mappings.keys()
    // More mappings of the function than one page holds: one left on a replaced stream of the table (ours
    // too), one on another table's stream and one on a queue (not ours).
    const mapping = (uuid: string, EventSourceArn: string) =>
      account.mappings.set(uuid, { UUID: uuid, EventSourceArn, FunctionArn: FakeAws.functionArn(FUNCTION), State: "Enabled", polls: 0 })
    mapping("on-queue", `arn:aws:sqs:${FakeAws.REGION}:${FakeAws.ACCOUNT}:orders`)
    mapping("on-other-table", `${FakeAws.tableArn("Orders")}/stream/2026-01-01T00:00:00.000`)
    mapping("on-replaced-stream", `${FakeAws.tableArn("CustTransactions")}/stream/2025-06-01T00:00:00.000`)
    // Someone added another inline policy to our role: IAM refuses to delete a role that still has one.
    account.policies.set("DynaEliteFunctionRole/AddedLater", "{}")

    const { outcomes, lines } = await teardown()

    assert.deepStrictEqual(input(FakeAws.lambda.commandCalls(DeleteEventSourceMappingCommand)), [
      { UUID: created },
      { UUID: "on-replaced-stream" }
    ])
    // Each was polled until Lambda no longer knew it: "Deleting" first, then not found.
    assert.deepStrictEqual(input(FakeAws.lambda.commandCalls(GetEventSourceMappingCommand)).map((i) => i.UUID), [
      created,
      created,
      "on-replaced-stream",
      "on-replaced-stream"
    ])
    assert.deepStrictEqual(input(FakeAws.iam.commandCalls(DeleteRolePolicyCommand)), [
      { RoleName: "DynaEliteFunctionRole", PolicyName: POLICY },
      { RoleName: "DynaEliteFunctionRole", PolicyName: "AddedLater" }
    ])
    assert.deepStrictEqual(input(FakeAws.lambda.commandCalls(DeleteFunctionCommand)), [{ FunctionName: FUNCTION }])
    assert.deepStrictEqual(input(FakeAws.iam.commandCalls(DeleteRoleCommand)), [{ RoleName: "DynaEliteFunctionRole" }])
    assert.deepStrictEqual(sent().filter((name) => mutating.test(name)), [
      "DeleteRolePolicyCommand",
      "DeleteRolePolicyCommand",
      "DeleteRoleCommand",
      "DeleteEventSourceMappingCommand",
      "DeleteEventSourceMappingCommand",
      "DeleteFunctionCommand"
    ])

    assert.deepStrictEqual(outcomes.map((o) => o.action), ["deleted", "deleted", "deleted", "deleted", "kept", "kept", "kept", "kept"])
    assert.deepStrictEqual(outcomes.slice(-4).map((o) => [o.resource, o.detail]), [
      ["CustTransactions", "pass --delete-data to delete it"],
      ["CustProfile", "pass --delete-data to delete it"],
      ["CustTransactionsRejected", "pass --delete-data to delete it"],
      ["CustEliteEvents", "pass --delete-data to delete it"]
    ])
    assert.strictEqual(lines.at(-1), "Done: 4 of 8 steps changed something.")

    forgetRequests()
    const withData = await teardown(true)

    assert.deepStrictEqual(input(FakeAws.dynamo.commandCalls(DeleteTableCommand)), [
      { TableName: "CustTransactions" },
      { TableName: "CustProfile" },
      { TableName: "CustTransactionsRejected" },
      { TableName: "CustEliteEvents" }
    ])
    assert.deepStrictEqual(sent().filter((name) => mutating.test(name)), Array(4).fill("DeleteTableCommand"))
    assert.deepStrictEqual(withData.outcomes.map((o) => o.action), ["unchanged", "unchanged", "unchanged", "unchanged", "deleted", "deleted", "deleted", "deleted"])
  })

  it("on the Jam's account removes the mapping and our policy, and keeps the Jam's function and role", async () => {
    const { account, jamRole } = FakeAws.jamAccount()
    await provisioned()
    const [created] = account.mappings.keys()

    const { outcomes } = await teardown()

    assert.deepStrictEqual(input(FakeAws.lambda.commandCalls(DeleteEventSourceMappingCommand)), [{ UUID: created }])
    assert.deepStrictEqual(input(FakeAws.iam.commandCalls(DeleteRolePolicyCommand)), [{ RoleName: "JamLambdaRole", PolicyName: POLICY }])
    assert.lengthOf(FakeAws.lambda.commandCalls(DeleteFunctionCommand), 0)
    assert.lengthOf(FakeAws.iam.commandCalls(DeleteRoleCommand), 0)
    assert.deepStrictEqual(sent().filter((name) => mutating.test(name)), ["DeleteRolePolicyCommand", "DeleteEventSourceMappingCommand"])

    const [, , fn, role] = outcomes
    assert.deepStrictEqual(fn, {
      action: "kept",
      resource: FakeAws.functionArn(FUNCTION),
      detail: "it was there before provision; its code is now ours: redeploy the original yourself"
    })
    assert.deepStrictEqual(role, { action: "kept", resource: jamRole, detail: "it was there before provision" })
  })

  it("keeps a role of our name that provision found and did not create", async () => {
    FakeAws.account({ roles: [{ path: "DynaEliteFunctionRole" }] })
    await provisioned()

    const { outcomes } = await teardown()

    assert.deepStrictEqual(input(FakeAws.lambda.commandCalls(DeleteFunctionCommand)), [{ FunctionName: FUNCTION }])
    assert.deepStrictEqual(input(FakeAws.iam.commandCalls(DeleteRolePolicyCommand)), [{ RoleName: "DynaEliteFunctionRole", PolicyName: POLICY }])
    assert.lengthOf(FakeAws.iam.commandCalls(DeleteRoleCommand), 0)
    assert.deepInclude(outcomes[3], { action: "kept", resource: FakeAws.roleArn("DynaEliteFunctionRole") })
  })

  it("changes nothing on a second run, fresh or Jam, with or without data: only reads are sent", async () => {
    for (const prepare of [() => FakeAws.account(), () => FakeAws.jamAccount()]) {
      for (const deleteData of [false, true]) {
        prepare()
        await provisioned()
        await teardown(deleteData)
        forgetRequests()

        const { outcomes, lines } = await teardown(deleteData)

        assert.isNotEmpty(sent())
        assert.deepStrictEqual(sent().filter((name) => mutating.test(name)), [])
        assert.isTrue(outcomes.every((o) => o.action === "unchanged" || o.action === "kept"))
        assert.strictEqual(lines.at(-1), "Nothing to change: all 8 steps were already in place.")
      }
    }
  })

  it("fails clearly when a deleted mapping is still there after five minutes", async () => {
    FakeAws.account()
    await provisioned()
    FakeAws.lambda.on(GetEventSourceMappingCommand).resolves({ UUID: "created-0", State: "Deleting" })

    const { message, errors } = await RunSteps.failed(awsTeardownSteps(names, { deleteData: false }))

    assert.strictEqual(message, "event source mapping created-0 is still Deleting after 5 minutes; run teardown again later")
    assert.deepStrictEqual(errors, [`[1/8] stream mapping CustTransactions → ${FUNCTION}: failed`])
    // Every 2 seconds for 5 minutes.
    assert.approximately(FakeAws.lambda.commandCalls(GetEventSourceMappingCommand).length, 151, 2)
  })
})

describe("invoking the function (verify)", () => {
  const decodeJson = Schema.decodeUnknownSync(Schema.fromJsonString(Schema.Unknown))
  const invoke = (event: unknown) => LambdaFunction.invoke(FUNCTION, event).pipe(Effect.provide(FakeAws.services))
  const sentPayloads = () =>
    input(FakeAws.lambda.commandCalls(InvokeCommand)).map(({ Payload, ...rest }) => {
      assert.instanceOf(Payload, Uint8Array)
      return { ...rest, Payload: decodeJson(new TextDecoder().decode(Payload)) }
    })

  it("sends the event as JSON, waits for the response and returns its payload", async () => {
    FakeAws.jamAccount().account.answer({ payload: { batchItemFailures: [] } })

    const response = await Effect.runPromise(invoke(acceptance))

    assert.deepStrictEqual(response, { batchItemFailures: [] })
    assert.deepStrictEqual(sentPayloads(), [{ FunctionName: FUNCTION, InvocationType: "RequestResponse", Payload: acceptance }])
  })

  it("turns a FunctionError into FunctionFailed, with what the function threw", async () => {
    FakeAws.jamAccount().account.answer({
      functionError: "Unhandled",
      payload: {
        errorType: "TypeError",
        errorMessage: "Cannot read properties of undefined (reading 'Records')",
        trace: ["TypeError: Cannot read properties of undefined (reading 'Records')", "    at Runtime.handler (/var/task/index.mjs:1:2)"]
      }
    })

    const error = await Effect.runPromise(Effect.flip(invoke({})))

    assert.strictEqual(error._tag, "FunctionFailed")
    assert.strictEqual(
      error.message,
      `function ${FUNCTION} failed: TypeError: Cannot read properties of undefined (reading 'Records')`
    )
    assert.deepStrictEqual(sentPayloads(), [{ FunctionName: FUNCTION, InvocationType: "RequestResponse", Payload: {} }])
  })
})
