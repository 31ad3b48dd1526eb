/**
 * `pnpm teardown --target aws` against a pretend account provisioned by `awsSteps` first: what it deletes
 * on a fresh account and on the Jam's (whose function and role it must keep), that a second run deletes
 * nothing, and verify's `invoke`. Time is a TestClock.
 */
import { CreateBackupCommand, DeleteTableCommand, DescribeBackupCommand } from "@aws-sdk/client-dynamodb"
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
import * as Deployment from "@dyna/aws/Deployment"
import { awsSteps } from "../src/provision/AwsSteps.js"
import { awsTeardownSteps } from "../src/provision/AwsTeardown.js"
import * as Bundle from "../src/provision/Bundle.js"
import * as LambdaFunction from "../src/provision/LambdaFunction.js"
import * as FakeAws from "./support/FakeAws.js"
import * as RunSteps from "./support/RunSteps.js"

const names = Deployment.names()
const target = { names, location: { partition: "aws", region: FakeAws.REGION, account: FakeAws.ACCOUNT } }
const FUNCTION = "JAM_Lambda_Exec_Function_EDIT_THIS"
const POLICY = "DynaEliteStreamAndTables"

// The real artifact, bundled by esbuild once for the file.
let artifact: Bundle.Artifact
beforeAll(async () => {
  artifact = await Effect.runPromise(Bundle.make)
}, 60_000)

/** Provisions the account as `pnpm provision --target aws` would, then forgets what that sent. */
const provisioned = async () => {
  await RunSteps.succeeded(awsSteps(target, Effect.sync(() => artifact)), { yes: true })
  RunSteps.forgetRequests()
}

const teardown = (deleteData = false, forceDeleteData = false, yes = true) =>
  RunSteps.succeeded(awsTeardownSteps(target, { deleteData, forceDeleteData }), { yes })

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
      account.mappings.set(uuid, {
        UUID: uuid,
        EventSourceArn,
        EventSourceMappingArn: FakeAws.mappingArn(uuid),
        FunctionArn: FakeAws.functionArn(FUNCTION),
        State: "Enabled",
        polls: 0
      })
    mapping("on-queue", `arn:aws:sqs:${FakeAws.REGION}:${FakeAws.ACCOUNT}:orders`)
    mapping("on-other-table", `${FakeAws.tableArn("Orders")}/stream/2026-01-01T00:00:00.000`)
    mapping("on-replaced-stream", `${FakeAws.tableArn("CustTransactions")}/stream/2025-06-01T00:00:00.000`)
    account.mappingTags.set(FakeAws.mappingArn("on-replaced-stream"), { "dyna-elite": `${FakeAws.REGION}/` })
    // One on the table's stream that someone else made for the function: not ours, kept.
    mapping("someone-elses", `${FakeAws.tableArn("CustTransactions")}/stream/2025-01-01T00:00:00.000`)
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
      "DeleteFunctionCommand",
      ...Array(5).fill("DeleteAlarmsCommand"),
      "DeleteDashboardsCommand",
      "DeleteLogGroupCommand"
    ])

    assert.deepStrictEqual(outcomes.map((o) => o.action), [
      "deleted", "kept", "deleted", "deleted", "deleted", "kept", "kept", "kept", "kept", ...Array(7).fill("deleted")
    ])
    assert.deepStrictEqual(outcomes.slice(5, 9).map((o) => [o.resource, o.detail]), [
      [FakeAws.tableArn("CustTransactions"), "pass --delete-data to delete it"],
      [FakeAws.tableArn("CustProfile"), "pass --delete-data to delete it"],
      [FakeAws.tableArn("CustTransactionsRejected"), "pass --delete-data to delete it"],
      [FakeAws.tableArn("CustEliteEvents"), "pass --delete-data to delete it"]
    ])
    assert.strictEqual(lines.at(-1), "Done: 11 of 16 steps changed something.")

    forgetRequests()
    const withData = await teardown(true)

    assert.deepStrictEqual(input(FakeAws.dynamo.commandCalls(DeleteTableCommand)), [
      { TableName: "CustTransactions" },
      { TableName: "CustProfile" },
      { TableName: "CustTransactionsRejected" },
      { TableName: "CustEliteEvents" }
    ])
    assert.deepStrictEqual(sent().filter((name) => mutating.test(name)), [...Array(4).fill("DeleteTableCommand"), "DeleteBucketCommand"])
    assert.deepStrictEqual(withData.outcomes.map((o) => o.action), [
      "unchanged", "deleted", "unchanged", "unchanged", "unchanged", "deleted", "deleted", "deleted", "deleted", ...Array(7).fill("unchanged")
    ])
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
    // The Jam's function's log group is ours: provision created it (the function had not run here).
    assert.deepStrictEqual(sent().filter((name) => mutating.test(name)), [
      "DeleteRolePolicyCommand",
      "DeleteEventSourceMappingCommand",
      ...Array(5).fill("DeleteAlarmsCommand"),
      "DeleteDashboardsCommand",
      "DeleteLogGroupCommand"
    ])

    const [, , , fn, role] = outcomes
    assert.deepStrictEqual(fn, {
      action: "kept",
      resource: FakeAws.functionArn(FUNCTION),
      detail: "it was there before provision; its code from before is version 1 (README: restoring an adopted function)"
    })
    assert.deepStrictEqual(role, { action: "kept", resource: jamRole, detail: "it was there before provision" })
  })

  it("keeps what another deployment created: a role and a mapping tagged with another region's value", async () => {
    const account = FakeAws.account({ roles: [{ path: "DynaEliteFunctionRole", tags: [{ Key: "dyna-elite", Value: "us-east-1/" }] }] })

    const { outcomes } = await teardown(true)

    assert.deepStrictEqual(sent().filter((name) => mutating.test(name)), [])
    assert.deepInclude(outcomes[4], { action: "kept", resource: FakeAws.roleArn("DynaEliteFunctionRole") })
    assert.isTrue(account.roles.has("DynaEliteFunctionRole"))
  })

  it("with --delete-data deletes only the tables provision created; the Jam's are kept and named", async () => {
    const { account } = FakeAws.jamAccount()
    await provisioned()
    account.itemCounts.set("CustTransactions", 3)
    account.itemCounts.set("CustProfile", 1)

    const { outcomes } = await teardown(true)

    assert.deepStrictEqual(input(FakeAws.dynamo.commandCalls(DeleteTableCommand)), [
      { TableName: "CustTransactionsRejected" },
      { TableName: "CustEliteEvents" }
    ])
    assert.lengthOf(FakeAws.dynamo.commandCalls(CreateBackupCommand), 0)
    assert.deepStrictEqual(outcomes.slice(5, 9).map((o) => [o.action, o.detail]), [
      ["kept", "it was there before provision (no owner tag of this deployment); --force-delete-data deletes it too"],
      ["kept", "it was there before provision (no owner tag of this deployment); --force-delete-data deletes it too"],
      ["deleted", undefined],
      ["deleted", undefined]
    ])
    assert.isTrue(account.tables.has("CustTransactions"))
  })

  it("with --force-delete-data backs up a table with items, prints the backup's ARN, and only then deletes it", async () => {
    const { account } = FakeAws.jamAccount()
    await provisioned()
    account.itemCounts.set("CustTransactions", 3)

    const { outcomes } = await teardown(true, true)

    const [backup, ...more] = input(FakeAws.dynamo.commandCalls(CreateBackupCommand))
    assert.lengthOf(more, 0)
    assert.strictEqual(backup?.TableName, "CustTransactions")
    const order = sent()
    assert.isBelow(order.indexOf("CreateBackupCommand"), order.indexOf("DeleteTableCommand"))
    // It waited for the backup to be AVAILABLE before deleting the table.
    assert.lengthOf(FakeAws.dynamo.commandCalls(DescribeBackupCommand), 2)
    const [arn] = account.backups.keys()
    assert.deepInclude(outcomes[5], { action: "deleted", detail: `backup ${arn}` })
    assert.isFalse(account.tables.has("CustTransactions"))
  })

  it("deletes no table with items without agreement, and says what it would have done", async () => {
    const { account } = FakeAws.jamAccount()
    await provisioned()
    account.itemCounts.set("CustTransactions", 3)

    const { message, lines } = await RunSteps.failed(awsTeardownSteps(target, { deleteData: true, forceDeleteData: true }), { yes: false })

    assert.include(message, "nothing was changed")
    assert.deepStrictEqual(sent().filter((name) => mutating.test(name)), [])
    assert.include(lines.join("\n"), "! deletes table CustTransactions, which provision did not create, and every item in it (a backup is taken first)")
    assert.isTrue(account.tables.has("CustTransactions"))
  })

  it("plans a teardown without changing anything", async () => {
    FakeAws.jamAccount()
    await provisioned()

    const { lines } = await RunSteps.succeeded(awsTeardownSteps(target, { deleteData: true, forceDeleteData: true }), { mode: "plan" })

    assert.deepStrictEqual(sent().filter((name) => mutating.test(name)), [])
    assert.include(lines.join("\n"), `[4/16] function ${FUNCTION}: keeps`)
    assert.include(lines.join("\n"), "[6/16] table CustTransactions: will delete")
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
        assert.strictEqual(lines.at(-1), "Nothing to change: all 16 steps were already in place.")
      }
    }
  })

  it("fails clearly when a deleted mapping is still there after five minutes", async () => {
    FakeAws.account()
    await provisioned()
    FakeAws.lambda.on(GetEventSourceMappingCommand).resolves({ UUID: "created-0", State: "Deleting" })

    const { message, errors } = await RunSteps.failed(awsTeardownSteps(target, { deleteData: false, forceDeleteData: false }), { yes: true })

    assert.strictEqual(message, "event source mapping created-0 is still Deleting after 5 minutes; run teardown again later")
    assert.deepStrictEqual(errors, [`[1/16] stream mapping CustTransactions → ${FUNCTION}: failed`])
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
