/**
 * `pnpm provision --target aws`, step by step, against a pretend account (real SDK clients, `send`
 * mocked): what it sends on a fresh account, on the Jam's account, on a second run, when IAM has not
 * caught up yet, and when it cannot go on. Time is a TestClock.
 */
import { CreateTableCommand, UpdateTableCommand } from "@aws-sdk/client-dynamodb"
import { CreateRoleCommand, PutRolePolicyCommand } from "@aws-sdk/client-iam"
import {
  CreateEventSourceMappingCommand,
  CreateFunctionCommand,
  DeleteEventSourceMappingCommand,
  GetEventSourceMappingCommand,
  InvalidParameterValueException,
  UpdateEventSourceMappingCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand
} from "@aws-sdk/client-lambda"
import * as Effect from "effect/Effect"
import { createHash } from "node:crypto"
import { assert, beforeAll, describe, it } from "vitest"
import * as Deployment from "../src/Deployment.js"
import { awsSteps } from "../src/provision/AwsSteps.js"
import * as Bundle from "../src/provision/Bundle.js"
import * as FakeAws from "./support/FakeAws.js"
import * as RunSteps from "./support/RunSteps.js"

const names = Deployment.names()
const { REGION, ACCOUNT } = FakeAws

// The real artifact, bundled by esbuild once for the file.
let artifact: Bundle.Artifact
beforeAll(async () => {
  artifact = await Effect.runPromise(Bundle.make)
}, 60_000)

/** Every AWS step, on the fake account with a test clock (the bundle is built once, above). */
const succeeded = () => RunSteps.succeeded(awsSteps(names, Effect.sync(() => artifact)))
const failed = () => RunSteps.failed(awsSteps(names, Effect.sync(() => artifact)))
const { sent, forgetRequests, mutating } = RunSteps

const sha256 = (bytes: Uint8Array | undefined) => createHash("sha256").update(bytes ?? new Uint8Array()).digest("base64")

const { streamOf, jamAccount } = FakeAws

const trustPolicy = {
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" }]
}

const table = (name: string) => `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${name}`
const logGroup = `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/lambda/JAM_Lambda_Exec_Function_EDIT_THIS`

/** The inline policy, written out: exactly what the handler needs. */
const expectedPolicy = {
  Version: "2012-10-17",
  Statement: [
    {
      Sid: "ReadTransactionsStream",
      Effect: "Allow",
      Action: ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"],
      Resource: [`${table("CustTransactions")}/stream/*`]
    },
    { Sid: "ListStreams", Effect: "Allow", Action: ["dynamodb:ListStreams"], Resource: ["*"] },
    { Sid: "ApplyToProfiles", Effect: "Allow", Action: ["dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:UpdateItem"], Resource: [table("CustProfile")] },
    { Sid: "RecordPromotions", Effect: "Allow", Action: ["dynamodb:PutItem"], Resource: [table("CustEliteEvents")] },
    { Sid: "QuarantineRejected", Effect: "Allow", Action: ["dynamodb:PutItem"], Resource: [table("CustTransactionsRejected")] },
    {
      Sid: "OwnLogGroup",
      Effect: "Allow",
      Action: ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
      Resource: [logGroup, `${logGroup}:*`]
    }
  ]
}

const environment = {
  TRANSACTIONS_TABLE: "CustTransactions",
  PROFILES_TABLE: "CustProfile",
  REJECTED_TABLE: "CustTransactionsRejected",
  ELITE_EVENTS_TABLE: "CustEliteEvents",
  LOG_LEVEL: "Info"
}

/** The mapping's settings, written out (StartingPosition only where a mapping is created). */
const mappingSettings = {
  FilterCriteria: { Filters: [{ Pattern: "{\"eventName\":[\"INSERT\"]}" }] },
  BatchSize: 100,
  MaximumBatchingWindowInSeconds: 0,
  FunctionResponseTypes: ["ReportBatchItemFailures" as const],
  BisectBatchOnFunctionError: true,
  MaximumRetryAttempts: 10,
  MaximumRecordAgeInSeconds: 21600,
  ParallelizationFactor: 1
}

describe("provisioning on AWS", () => {
  it("creates everything on a fresh account", async () => {
    const account = FakeAws.account()

    const { outcomes, lines } = await succeeded()

    assert.deepStrictEqual(outcomes.map((o) => o.action), Array(9).fill("created"))
    assert.strictEqual(lines.at(-1), "Done: 9 of 9 steps changed something.")
    assert.deepStrictEqual(FakeAws.dynamo.commandCalls(CreateTableCommand).map((c) => c.args[0].input.TableName), [
      "CustTransactions",
      "CustProfile",
      "CustTransactionsRejected",
      "CustEliteEvents"
    ])
    assert.deepStrictEqual(FakeAws.dynamo.commandCalls(UpdateTableCommand).map((c) => c.args[0].input.StreamSpecification), [
      { StreamEnabled: true, StreamViewType: "NEW_IMAGE" }
    ])

    const [createRole, ...moreRoles] = FakeAws.iam.commandCalls(CreateRoleCommand).map((c) => c.args[0].input)
    assert.lengthOf(moreRoles, 0)
    assert.strictEqual(createRole?.RoleName, "DynaEliteFunctionRole")
    assert.deepStrictEqual(JSON.parse(createRole?.AssumeRolePolicyDocument ?? "null"), trustPolicy)
    assert.deepStrictEqual(createRole?.Tags, [{ Key: "dyna-elite", Value: "provisioned" }])

    const [putPolicy, ...morePolicies] = FakeAws.iam.commandCalls(PutRolePolicyCommand).map((c) => c.args[0].input)
    assert.lengthOf(morePolicies, 0)
    assert.strictEqual(putPolicy?.RoleName, "DynaEliteFunctionRole")
    assert.strictEqual(putPolicy?.PolicyName, "DynaEliteStreamAndTables")
    assert.deepStrictEqual(JSON.parse(putPolicy?.PolicyDocument ?? "null"), expectedPolicy)

    const [createFunction, ...moreFunctions] = FakeAws.lambda.commandCalls(CreateFunctionCommand).map((c) => c.args[0].input)
    assert.lengthOf(moreFunctions, 0)
    const { Code, ...configuration } = createFunction ?? {}
    assert.deepInclude(configuration, {
      FunctionName: "JAM_Lambda_Exec_Function_EDIT_THIS",
      Role: `arn:aws:iam::${ACCOUNT}:role/DynaEliteFunctionRole`,
      Runtime: "nodejs22.x",
      Handler: "index.handler",
      MemorySize: 256,
      Timeout: 30,
      Environment: { Variables: environment },
      Tags: { "dyna-elite": "provisioned" }
    })
    assert.strictEqual(sha256(Code?.ZipFile), artifact.sha256)

    const stream = streamOf(account, "CustTransactions")
    assert.isDefined(stream)
    assert.deepStrictEqual(FakeAws.lambda.commandCalls(CreateEventSourceMappingCommand).map((c) => c.args[0].input), [{
      FunctionName: "JAM_Lambda_Exec_Function_EDIT_THIS",
      EventSourceArn: stream,
      Enabled: true,
      StartingPosition: "TRIM_HORIZON",
      ...mappingSettings
    }])
    // Lambda reported the new mapping "Creating" first: the step waited for "Enabled".
    assert.lengthOf(FakeAws.lambda.commandCalls(GetEventSourceMappingCommand), 2)
  })

  it("adopts the Jam's account: replaces the KEYS_ONLY stream, switches the Python function, moves the mapping", async () => {
    const { account, keysOnlyStream } = jamAccount()

    const { outcomes } = await succeeded()

    // The Jam's tables are kept as they are, keys included; only the quarantine and the events table are new.
    assert.deepStrictEqual(FakeAws.dynamo.commandCalls(CreateTableCommand).map((c) => c.args[0].input.TableName), [
      "CustTransactionsRejected",
      "CustEliteEvents"
    ])
    assert.deepStrictEqual(account.tables.get("CustTransactions")?.KeySchema, [
      { AttributeName: "CustID", KeyType: "HASH" },
      { AttributeName: "TnValue", KeyType: "RANGE" }
    ])
    assert.deepStrictEqual(FakeAws.dynamo.commandCalls(UpdateTableCommand).map((c) => c.args[0].input.StreamSpecification), [
      { StreamEnabled: false },
      { StreamEnabled: true, StreamViewType: "NEW_IMAGE" }
    ])
    const newStream = streamOf(account, "CustTransactions")
    assert.notStrictEqual(newStream, keysOnlyStream)

    // The function keeps its own role; the policy goes there.
    assert.lengthOf(FakeAws.iam.commandCalls(CreateRoleCommand), 0)
    const policies = FakeAws.iam.commandCalls(PutRolePolicyCommand).map((c) => c.args[0].input)
    assert.deepStrictEqual(policies.map((p) => [p.RoleName, p.PolicyName]), [["JamLambdaRole", "DynaEliteStreamAndTables"]])
    assert.deepStrictEqual(JSON.parse(policies[0]?.PolicyDocument ?? "null"), expectedPolicy)

    assert.lengthOf(FakeAws.lambda.commandCalls(CreateFunctionCommand), 0)
    const codes = FakeAws.lambda.commandCalls(UpdateFunctionCodeCommand).map((c) => c.args[0].input)
    assert.deepStrictEqual(codes.map((c) => [c.FunctionName, sha256(c.ZipFile)]), [["JAM_Lambda_Exec_Function_EDIT_THIS", artifact.sha256]])
    assert.deepStrictEqual(FakeAws.lambda.commandCalls(UpdateFunctionConfigurationCommand).map((c) => c.args[0].input), [{
      FunctionName: "JAM_Lambda_Exec_Function_EDIT_THIS",
      Runtime: "nodejs22.x",
      Handler: "index.handler",
      MemorySize: 256,
      Timeout: 30,
      Environment: { Variables: environment }
    }])

    assert.deepStrictEqual(FakeAws.lambda.commandCalls(DeleteEventSourceMappingCommand).map((c) => c.args[0].input), [{ UUID: "jam-mapping" }])
    assert.deepStrictEqual(FakeAws.lambda.commandCalls(CreateEventSourceMappingCommand).map((c) => c.args[0].input.EventSourceArn), [newStream])

    // The Jam's function and role are never tagged as ours: teardown must not take them for its own.
    assert.deepStrictEqual(sent().filter((name) => /Tag|Create(Role|Function)Command/.test(name)), [])

    const [, stream, , , , role, , published, mapped] = outcomes
    assert.deepInclude(stream, { action: "updated", detail: "view type KEYS_ONLY → NEW_IMAGE" })
    assert.deepInclude(role, { action: "unchanged", resource: FakeAws.roleArn("service-role/JamLambdaRole") })
    assert.strictEqual(published?.action, "updated")
    assert.include(published?.detail, "code")
    assert.include(published?.detail, "runtime python3.12 → nodejs22.x")
    assert.include(published?.detail, "handler lambda_function.lambda_handler → index.handler")
    assert.strictEqual(mapped?.action, "created")
    assert.include(mapped?.detail, "removed 1 on a replaced stream")
  })

  it("changes nothing on a second run, fresh or Jam: only reads are sent", async () => {
    for (const prepare of [() => FakeAws.account(), () => jamAccount().account]) {
      prepare()
      await succeeded()
      forgetRequests()

      const { outcomes, lines } = await succeeded()

      assert.deepStrictEqual(outcomes.map((o) => o.action), Array(9).fill("unchanged"))
      assert.strictEqual(lines.at(-1), "Nothing to change: all 9 steps were already in place.")
      const requests = sent()
      assert.isNotEmpty(requests)
      assert.deepStrictEqual(requests.filter((name) => mutating.test(name)), [])
    }
  })

  it("waits for IAM: retries CreateFunction while the new role cannot be assumed, and the mapping while the stream is unreadable", async () => {
    const account = FakeAws.account()
    account.failNext("CreateFunction", FakeAws.roleCannotBeAssumed(), FakeAws.roleCannotBeAssumed())
    account.failNext("CreateEventSourceMapping", FakeAws.cannotAccessStream(`${table("CustTransactions")}/stream/x`))

    const { outcomes } = await succeeded()

    assert.lengthOf(FakeAws.lambda.commandCalls(CreateFunctionCommand), 3)
    assert.lengthOf(FakeAws.lambda.commandCalls(CreateEventSourceMappingCommand), 2)
    assert.deepStrictEqual(outcomes.slice(-2).map((o) => o.action), ["created", "created"])
  })

  it("gives up on a role that never becomes usable after about two minutes", async () => {
    const account = FakeAws.account()
    account.failAlways("CreateFunction", FakeAws.roleCannotBeAssumed)

    const { message, errors } = await failed()

    assert.include(message, "The role defined for the function cannot be assumed by Lambda")
    // 1 s growing by 1.5× to 10 s, jittered, within 2 minutes: about 16 attempts.
    const attempts = FakeAws.lambda.commandCalls(CreateFunctionCommand).length
    assert.isAtLeast(attempts, 8)
    assert.isAtMost(attempts, 20)
    assert.deepStrictEqual(errors, ["[8/9] function JAM_Lambda_Exec_Function_EDIT_THIS (bundled): failed"])
  })

  it("does not retry a function Lambda rejects for another reason", async () => {
    const account = FakeAws.account()
    account.failNext(
      "CreateFunction",
      new InvalidParameterValueException({ message: "Unzipped size must be smaller than 262144000 bytes", $metadata: {} })
    )

    const { message } = await failed()

    assert.include(message, "Lambda CreateFunction failed (Other): Unzipped size must be smaller")
    assert.lengthOf(FakeAws.lambda.commandCalls(CreateFunctionCommand), 1)
  })

  it("replaces a stream of the wrong view type and moves the mapping to the new stream, nothing else", async () => {
    const account = FakeAws.account()
    await succeeded()
    // Someone switched the stream to OLD_IMAGE, which carries no TnValue of a new purchase.
    const current = account.tables.get("CustTransactions")
    account.tables.set("CustTransactions", {
      ...current,
      StreamSpecification: { StreamEnabled: true, StreamViewType: "OLD_IMAGE" },
      LatestStreamArn: `${table("CustTransactions")}/stream/old-image`
    })
    const [mapping] = account.mappings.values()
    forgetRequests()

    const { outcomes } = await succeeded()

    assert.deepStrictEqual(FakeAws.dynamo.commandCalls(UpdateTableCommand).map((c) => c.args[0].input.StreamSpecification), [
      { StreamEnabled: false },
      { StreamEnabled: true, StreamViewType: "NEW_IMAGE" }
    ])
    const newStream = streamOf(account, "CustTransactions")
    assert.deepStrictEqual(FakeAws.lambda.commandCalls(DeleteEventSourceMappingCommand).map((c) => c.args[0].input.UUID), [mapping?.UUID])
    assert.deepStrictEqual(FakeAws.lambda.commandCalls(CreateEventSourceMappingCommand).map((c) => c.args[0].input.EventSourceArn), [newStream])
    assert.deepStrictEqual(sent().filter((name) => mutating.test(name)), [
      "UpdateTableCommand",
      "UpdateTableCommand",
      "DeleteEventSourceMappingCommand",
      "CreateEventSourceMappingCommand"
    ])
    assert.deepInclude(outcomes[1], { action: "updated", detail: "view type OLD_IMAGE → NEW_IMAGE" })
  })

  it("updates a mapping whose settings drifted, and enables it again", async () => {
    const account = FakeAws.account()
    await succeeded()
    const [mapping] = account.mappings.values()
    if (mapping?.UUID === undefined) return assert.fail("no mapping was created")
    account.mappings.set(mapping.UUID, { ...mapping, BatchSize: 10, State: "Disabled" })
    forgetRequests()

    const { outcomes } = await succeeded()

    assert.deepStrictEqual(FakeAws.lambda.commandCalls(UpdateEventSourceMappingCommand).map((c) => c.args[0].input), [{
      UUID: mapping.UUID,
      FunctionName: "JAM_Lambda_Exec_Function_EDIT_THIS",
      Enabled: true,
      ...mappingSettings
    }])
    assert.deepInclude(outcomes.at(-1), { action: "updated", detail: "batch size, enabled" })
  })

  it("fails clearly when Lambda leaves the mapping Disabled", async () => {
    FakeAws.account()
    // The mapping is created, then Lambda reports it Disabled instead of Enabled.
    FakeAws.lambda.on(GetEventSourceMappingCommand).resolves({ UUID: "created-0", State: "Disabled", StateTransitionReason: "USER_INITIATED" })

    const { message } = await failed()

    assert.strictEqual(
      message,
      "event source mapping created-0 is Disabled (USER_INITIATED); check the function's role can read the stream, then run provision again"
    )
    assert.lengthOf(FakeAws.lambda.commandCalls(GetEventSourceMappingCommand), 1)
  })

  it("says in one sentence that no credentials were found, whichever client meets it first", async () => {
    const sentence =
      "no AWS credentials found (Could not load credentials from any providers): configure them with `aws configure`, AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"

    FakeAws.account().failAlways("DescribeTable", FakeAws.noCredentials)
    const dynamo = await failed()
    assert.strictEqual(dynamo.message, sentence)
    assert.deepStrictEqual(dynamo.errors, ["[1/9] table CustTransactions: failed"])
    assert.deepStrictEqual(sent(), ["DescribeTableCommand"])

    const account = FakeAws.account()
    await succeeded()
    account.failAlways("GetFunction", FakeAws.noCredentials)
    const lambda = await failed()
    assert.strictEqual(lambda.message, sentence)
  })
})
