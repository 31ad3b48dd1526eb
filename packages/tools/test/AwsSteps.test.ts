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
  PublishVersionCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand
} from "@aws-sdk/client-lambda"
import * as Effect from "effect/Effect"
import { createHash } from "node:crypto"
import { assert, beforeAll, describe, it } from "vitest"
import * as Deployment from "@dyna/aws/Deployment"
import { awsSteps } from "../src/provision/AwsSteps.js"
import * as Bundle from "../src/provision/Bundle.js"
import * as LambdaFunction from "../src/provision/LambdaFunction.js"
import * as FunctionPolicy from "@dyna/aws/FunctionPolicy"
import * as FakeAws from "./support/FakeAws.js"
import * as RunSteps from "./support/RunSteps.js"

const names = Deployment.names()
const { REGION, ACCOUNT } = FakeAws
const target = { names, location: { partition: "aws", region: REGION, account: ACCOUNT } }
/** The owner tag this deployment (no prefix, in eu-west-1) puts on what it creates. */
const OURS = { "dyna-elite": `${REGION}/` }

// The real artifact, bundled by esbuild once for the file.
let artifact: Bundle.Artifact
beforeAll(async () => {
  artifact = await Effect.runPromise(Bundle.make)
}, 60_000)

/** Every AWS step, on the fake account with a test clock (the bundle is built once, above). */
const steps = (t = target) => awsSteps(t, Effect.sync(() => artifact))
const succeeded = (options: RunSteps.RunOptions = { yes: true }) => RunSteps.succeeded(steps(), options)
const failed = (options: RunSteps.RunOptions = { yes: true }) => RunSteps.failed(steps(), options)
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
    { Sid: "ReadProfiles", Effect: "Allow", Action: ["dynamodb:BatchGetItem", "dynamodb:GetItem"], Resource: [table("CustProfile")] },
    {
      Sid: "UpdateOwnProfileAttributes",
      Effect: "Allow",
      Action: ["dynamodb:UpdateItem"],
      Resource: [table("CustProfile")],
      // The attributes the handler writes, proven against its recorded calls in FunctionPolicy.test.ts.
      Condition: { "ForAllValues:StringEquals": { "dynamodb:Attributes": [...FunctionPolicy.PROFILE_ATTRIBUTES] } }
    },
    { Sid: "RecordPromotions", Effect: "Allow", Action: ["dynamodb:PutItem"], Resource: [table("CustEliteEvents")] },
    { Sid: "ReadAppliedPages", Effect: "Allow", Action: ["dynamodb:BatchGetItem", "dynamodb:GetItem"], Resource: [table("CustEliteEvents")] },
    { Sid: "QuarantineRejected", Effect: "Allow", Action: ["dynamodb:PutItem"], Resource: [table("CustTransactionsRejected")] },
    {
      Sid: "OwnLogGroup",
      Effect: "Allow",
      Action: ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
      Resource: [logGroup, `${logGroup}:*`]
    },
    {
      Sid: "OnFailureObjects",
      Effect: "Allow",
      Action: ["s3:PutObject"],
      Resource: [`arn:aws:s3:::dyna-elite-on-failure-${ACCOUNT}-${REGION}/*`],
      Condition: { StringEquals: { "s3:ResourceAccount": [ACCOUNT] } }
    },
    {
      Sid: "OnFailureBucket",
      Effect: "Allow",
      Action: ["s3:ListBucket"],
      Resource: [`arn:aws:s3:::dyna-elite-on-failure-${ACCOUNT}-${REGION}`],
      Condition: { StringEquals: { "s3:ResourceAccount": [ACCOUNT] } }
    }
  ]
}

const environment = {
  TRANSACTIONS_TABLE: "CustTransactions",
  PROFILES_TABLE: "CustProfile",
  REJECTED_TABLE: "CustTransactionsRejected",
  ELITE_EVENTS_TABLE: "CustEliteEvents",
  LOG_LEVEL: "Info",
  QUARANTINE_DAYS: "30"
}

/** The mapping's settings, written out (StartingPosition only where a mapping is created). */
const mappingSettings = {
  DestinationConfig: { OnFailure: { Destination: `arn:aws:s3:::dyna-elite-on-failure-${ACCOUNT}-${REGION}` } },
  FilterCriteria: { Filters: [{ Pattern: "{\"eventName\":[\"INSERT\"]}" }] },
  BatchSize: 100,
  MaximumBatchingWindowInSeconds: 0,
  FunctionResponseTypes: ["ReportBatchItemFailures" as const],
  BisectBatchOnFunctionError: true,
  MaximumRetryAttempts: 10,
  MaximumRecordAgeInSeconds: 21600,
  ParallelizationFactor: 1,
  MetricsConfig: { Metrics: ["EventCount" as const] }
}

describe("provisioning on AWS", () => {
  it("creates everything on a fresh account", async () => {
    const account = FakeAws.account()

    const { outcomes, lines } = await succeeded()

    // Enabling TTL on the new quarantine and events tables is an update of each.
    assert.deepStrictEqual(outcomes.map((o) => o.action), [...Array(5).fill("created"), "updated", "updated", ...Array(12).fill("created")])
    assert.strictEqual(lines.at(-1), "Done: 19 of 19 steps changed something.")
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
    assert.deepStrictEqual(createRole?.Tags, [{ Key: "dyna-elite", Value: `${REGION}/` }])
    assert.deepStrictEqual(
      FakeAws.dynamo.commandCalls(CreateTableCommand).map((c) => c.args[0].input.Tags),
      Array(4).fill([{ Key: "dyna-elite", Value: `${REGION}/` }])
    )

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
      Runtime: "nodejs24.x",
      Handler: "index.handler",
      MemorySize: 256,
      Timeout: 30,
      Environment: { Variables: environment },
      Tags: OURS
    })
    assert.strictEqual(sha256(Code?.ZipFile), artifact.sha256)

    const stream = streamOf(account, "CustTransactions")
    assert.isDefined(stream)
    assert.deepStrictEqual(FakeAws.lambda.commandCalls(CreateEventSourceMappingCommand).map((c) => c.args[0].input), [{
      FunctionName: "JAM_Lambda_Exec_Function_EDIT_THIS",
      EventSourceArn: stream,
      Enabled: true,
      StartingPosition: "TRIM_HORIZON",
      ...mappingSettings,
      Tags: OURS
    }])
    // Lambda reported the new mapping "Creating" first: the step waited for "Enabled".
    assert.lengthOf(FakeAws.lambda.commandCalls(GetEventSourceMappingCommand), 2)
  })

  it("adopts the Jam's account: replaces the KEYS_ONLY stream, switches the Python function, moves the mapping", async () => {
    const { account, keysOnlyStream } = jamAccount()
    account.functions.set("JAM_Lambda_Exec_Function_EDIT_THIS", {
      ...account.functions.get("JAM_Lambda_Exec_Function_EDIT_THIS"),
      Environment: { Variables: { JAM_SETTING: "kept" } }
    })

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
      Runtime: "nodejs24.x",
      Handler: "index.handler",
      MemorySize: 256,
      Timeout: 30,
      // The Jam's own variables stay beside ours.
      Environment: { Variables: { JAM_SETTING: "kept", ...environment } }
    }])
    // Its Python code was published as a version before ours replaced it, so it can be restored.
    assert.deepStrictEqual(FakeAws.lambda.commandCalls(PublishVersionCommand).map((c) => c.args[0].input), [{
      FunctionName: "JAM_Lambda_Exec_Function_EDIT_THIS",
      Description: LambdaFunction.SAVED_VERSION_DESCRIPTION,
      CodeSha256: "cHl0aG9uIGNvZGU="
    }])
    assert.deepStrictEqual(account.versions.get("JAM_Lambda_Exec_Function_EDIT_THIS")?.map((v) => v.CodeSha256), ["cHl0aG9uIGNvZGU="])
    assert.isBelow(sent().indexOf("PublishVersionCommand"), sent().indexOf("UpdateFunctionCodeCommand"))

    assert.deepStrictEqual(FakeAws.lambda.commandCalls(DeleteEventSourceMappingCommand).map((c) => c.args[0].input), [{ UUID: "jam-mapping" }])
    assert.deepStrictEqual(FakeAws.lambda.commandCalls(CreateEventSourceMappingCommand).map((c) => c.args[0].input.EventSourceArn), [newStream])

    // The Jam's function and role are never tagged as ours: teardown must not take them for its own.
    assert.deepStrictEqual(sent().filter((name) => /^(Tag|Untag)|Create(Role|Function)Command/.test(name)), [])
    assert.isUndefined(account.tableTags.get(table("CustTransactions")))

    const [, stream, , , , , , , role, , published, mapped] = outcomes
    assert.deepInclude(stream, { action: "updated", detail: "view type KEYS_ONLY → NEW_IMAGE" })
    assert.deepInclude(role, { action: "unchanged", resource: FakeAws.roleArn("service-role/JamLambdaRole") })
    assert.strictEqual(published?.action, "updated")
    assert.include(published?.detail, "code before saved as version 1")
    assert.include(published?.detail, "runtime python3.12 → nodejs24.x")
    assert.include(published?.detail, "handler lambda_function.lambda_handler → index.handler")
    assert.strictEqual(mapped?.action, "created")
    assert.include(mapped?.detail, "removes 1 on a replaced stream")
  })

  it("changes nothing on a second run, fresh or Jam: only reads are sent", async () => {
    for (const prepare of [() => FakeAws.account(), () => jamAccount().account]) {
      prepare()
      await succeeded()
      forgetRequests()

      const { outcomes, lines } = await succeeded()

      assert.deepStrictEqual(outcomes.map((o) => o.action), Array(19).fill("unchanged"))
      assert.strictEqual(lines.at(-1), "Nothing to change: all 19 steps were already in place.")
      const requests = sent()
      assert.isNotEmpty(requests)
      assert.deepStrictEqual(requests.filter((name) => mutating.test(name)), [])
    }
  })

  it("moves a function it deployed on an older runtime to nodejs24.x, its code left as it is", async () => {
    const account = FakeAws.account()
    await succeeded()
    const deployed = account.functions.get("JAM_Lambda_Exec_Function_EDIT_THIS")
    account.functions.set("JAM_Lambda_Exec_Function_EDIT_THIS", { ...deployed, Runtime: "nodejs22.x" })
    forgetRequests()

    const { outcomes } = await succeeded()

    assert.deepStrictEqual(FakeAws.lambda.commandCalls(UpdateFunctionConfigurationCommand).map((c) => c.args[0].input.Runtime), ["nodejs24.x"])
    assert.lengthOf(FakeAws.lambda.commandCalls(UpdateFunctionCodeCommand), 0)
    assert.include(outcomes.find((o) => o.resource.endsWith(":function:JAM_Lambda_Exec_Function_EDIT_THIS"))?.detail, "runtime nodejs22.x → nodejs24.x")
    assert.strictEqual(account.functions.get("JAM_Lambda_Exec_Function_EDIT_THIS")?.Runtime, "nodejs24.x")
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
    assert.deepStrictEqual(errors, ["[11/19] function JAM_Lambda_Exec_Function_EDIT_THIS (bundled): failed"])
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
    assert.deepInclude(outcomes[11], { action: "updated", detail: "batch size, enabled" })
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
    assert.deepStrictEqual(dynamo.errors, ["[1/19] table CustTransactions: cannot go on"])
    assert.deepStrictEqual(sent(), ["DescribeTableCommand"])

    const account = FakeAws.account()
    await succeeded()
    account.failAlways("GetFunction", FakeAws.noCredentials)
    const lambda = await failed()
    assert.strictEqual(lambda.message, sentence)
  })

  it("plans without changing anything: every step's decision, from describe/get/list calls only", async () => {
    for (const prepare of [() => FakeAws.account(), () => jamAccount().account]) {
      prepare()

      const { outcomes, lines } = await RunSteps.succeeded(steps(), { mode: "plan" })

      assert.isNotEmpty(sent())
      assert.deepStrictEqual(sent().filter((name) => mutating.test(name)), [])
      assert.strictEqual(lines[0], "Plan (nothing is changed):")
      assert.lengthOf(outcomes, 19)
      assert.match(String(lines.at(-1)), /^Plan: \d+ to create, \d+ to update, 0 to remove, \d+ unchanged or kept\./)
    }
    // The Jam's account: what would be displaced is said under its step.
    const { lines } = await RunSteps.succeeded(steps(), { mode: "plan" })
    assert.include(lines.join("\n"), "[2/19] stream on CustTransactions: will update")
    assert.include(lines.join("\n"), "! replaces the KEYS_ONLY stream of CustTransactions, which provision did not create")
    assert.include(lines.join("\n"), "! replaces the code of function JAM_Lambda_Exec_Function_EDIT_THIS (python3.12)")
  })

  it("changes nothing on the Jam's account without agreement, and says what it would have done", async () => {
    jamAccount()

    const { message, lines } = await failed({ yes: false })

    assert.match(message, /^nothing was changed: 3 steps need your agreement; run it on a terminal to be asked, or pass --yes$/)
    assert.deepStrictEqual(sent().filter((name) => mutating.test(name)), [])
    assert.include(lines.join("\n"), "! deletes mapping jam-mapping of JAM_Lambda_Exec_Function_EDIT_THIS, which provision did not create")
  })

  it("refuses a role of our name that this deployment did not create, or that more than Lambda may assume", async () => {
    const lambdaTrust = JSON.stringify({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" }]
    })
    const ec2Too = JSON.stringify({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Principal: { Service: ["lambda.amazonaws.com", "ec2.amazonaws.com"] }, Action: "sts:AssumeRole" }]
    })
    const cases = [
      { tags: [], trust: lambdaTrust, says: "was not created by this deployment's provision" },
      // Another deployment's tag (another region) is not ours either.
      { tags: [{ Key: "dyna-elite", Value: "us-east-1/" }], trust: lambdaTrust, says: "was not created by this deployment's provision" },
      { tags: [{ Key: "dyna-elite", Value: `${REGION}/` }], trust: ec2Too, says: "may be assumed by more than lambda.amazonaws.com" }
    ]
    for (const { tags, trust, says } of cases) {
      FakeAws.account({ roles: [{ path: "DynaEliteFunctionRole", tags, trust }] })

      const { message } = await failed()

      assert.include(message, `role ${FakeAws.roleArn("DynaEliteFunctionRole")}`)
      assert.include(message, says)
      assert.deepStrictEqual(sent().filter((name) => mutating.test(name)), [])
    }
  })

  it("tags what a prefixed deployment creates with its own value, so another deployment never takes it for its own", async () => {
    FakeAws.account()
    const dev = { names: Deployment.names("dev-"), location: target.location }

    await RunSteps.succeeded(steps(dev), { yes: true })

    const created = FakeAws.lambda.commandCalls(CreateFunctionCommand).map((c) => c.args[0].input)
    assert.deepStrictEqual(created.map((c) => [c.FunctionName, c.Tags]), [["dev-JAM_Lambda_Exec_Function_EDIT_THIS", { "dyna-elite": `${REGION}/dev-` }]])
  })
})
