/**
 * The operator's policy, checked by an IAM evaluator: every action exists and fits its resource, every
 * call provision, teardown and the operations commands send on AWS is allowed, every action is needed
 * by one of them, and what an operator of this deployment needs never is denied. Then against what
 * provision and teardown really send: every request the SDK clients carried in their runs on the pretend
 * account (fresh and Jam, plan and apply, with and without data), so a call added to a step cannot go unchecked.
 */
import * as Effect from "effect/Effect"
import { assert, beforeAll, describe, it } from "vitest"
import * as Deployment from "@dyna/aws/Deployment"
import * as Alarms from "../src/provision/Alarms.js"
import { awsSteps } from "../src/provision/AwsSteps.js"
import { awsTeardownSteps } from "../src/provision/AwsTeardown.js"
import * as Bundle from "../src/provision/Bundle.js"
import * as OperatorPolicy from "../src/provision/OperatorPolicy.js"
import * as FakeAws from "./support/FakeAws.js"
import * as IamCheck from "../../aws/test/support/IamCheck.js"
import * as RunSteps from "./support/RunSteps.js"

const at: Deployment.Location = { partition: "aws", region: "eu-west-1", account: "123456789012" }
const names = Deployment.names("")
const bucket = Deployment.onFailureBucketName(names.prefix, at)
const tableArn = (t: string) => `arn:aws:dynamodb:${at.region}:${at.account}:table/${t}`
const roleArn = `arn:aws:iam::${at.account}:role/${names.roleName}`
const functionArn = `arn:aws:lambda:${at.region}:${at.account}:function:${names.functionName}`
const streamArn = `${tableArn(names.transactions)}/stream/2026-01-01T00:00:00.000`
const profileWrite = {
  TableName: names.profiles,
  Key: { CustID: { S: "c" } },
  UpdateExpression: "SET TotalTnValue = :total, CustStatus = :status, AppliedTn = :applied, ProfileVersion = :next, EliteSince = :since",
  ConditionExpression: "ProfileVersion = :prev"
}

/** What provision, teardown and the operations commands send with `--target aws`, written out. */
const commands: ReadonlyArray<readonly [IamCheck.Service, string, Record<string, unknown>]> = [
  ["sts", "GetCallerIdentityCommand", {}],
  // provision: tables, stream, tags, TTL
  ...Deployment.tableNames(names).flatMap((t): ReadonlyArray<readonly [IamCheck.Service, string, Record<string, unknown>]> => [
    ["dynamodb", "DescribeTableCommand", { TableName: t }],
    ["dynamodb", "CreateTableCommand", { TableName: t }],
    ["dynamodb", "ListTagsOfResourceCommand", { ResourceArn: tableArn(t) }],
    ["dynamodb", "TagResourceCommand", { ResourceArn: tableArn(t), Tags: [] }],
    ["dynamodb", "UntagResourceCommand", { ResourceArn: tableArn(t), TagKeys: [] }],
    ["dynamodb", "DescribeTimeToLiveCommand", { TableName: t }],
    ["dynamodb", "UpdateTimeToLiveCommand", { TableName: t }],
    // teardown: a backup first, then the table
    ["dynamodb", "CreateBackupCommand", { TableName: t, BackupName: "before-teardown" }],
    ["dynamodb", "DescribeBackupCommand", { BackupArn: `${tableArn(t)}/backup/01700000000000-abcdef12` }],
    ["dynamodb", "DeleteTableCommand", { TableName: t }]
  ]),
  ["dynamodb", "UpdateTableCommand", { TableName: names.transactions, StreamSpecification: { StreamEnabled: true } }],
  // the role and its inline policy
  ["iam", "GetRoleCommand", { RoleName: names.roleName }],
  ["iam", "CreateRoleCommand", { RoleName: names.roleName, Tags: [{ Key: "dyna-elite", Value: "provisioned" }] }],
  ["iam", "GetRolePolicyCommand", { RoleName: names.roleName, PolicyName: names.policyName }],
  ["iam", "PutRolePolicyCommand", { RoleName: names.roleName, PolicyName: names.policyName }],
  ["iam", "ListRolePoliciesCommand", { RoleName: names.roleName }],
  ["iam", "DeleteRolePolicyCommand", { RoleName: names.roleName, PolicyName: names.policyName }],
  ["iam", "DeleteRoleCommand", { RoleName: names.roleName }],
  // the function
  ["lambda", "GetFunctionCommand", { FunctionName: names.functionName }],
  ["lambda", "GetFunctionConfigurationCommand", { FunctionName: names.functionName }],
  ["lambda", "CreateFunctionCommand", { FunctionName: names.functionName, Role: roleArn, Tags: { "dyna-elite": "provisioned" } }],
  ["lambda", "UpdateFunctionCodeCommand", { FunctionName: names.functionName }],
  ["lambda", "UpdateFunctionConfigurationCommand", { FunctionName: names.functionName }],
  ["lambda", "PublishVersionCommand", { FunctionName: names.functionName }],
  ["lambda", "ListVersionsByFunctionCommand", { FunctionName: names.functionName }],
  ["lambda", "ListTagsCommand", { Resource: functionArn }],
  ["lambda", "TagResourceCommand", { Resource: functionArn, Tags: {} }],
  ["lambda", "UntagResourceCommand", { Resource: functionArn, TagKeys: [] }],
  ["lambda", "InvokeCommand", { FunctionName: names.functionName }],
  ["lambda", "DeleteFunctionCommand", { FunctionName: names.functionName }],
  // the mapping
  ["lambda", "ListEventSourceMappingsCommand", { FunctionName: names.functionName, EventSourceArn: streamArn }],
  ["lambda", "CreateEventSourceMappingCommand", { FunctionName: names.functionName, EventSourceArn: streamArn }],
  ["lambda", "GetEventSourceMappingCommand", { UUID: "14e0db71-0000-4000-8000-000000000000" }],
  ["lambda", "UpdateEventSourceMappingCommand", { UUID: "14e0db71-0000-4000-8000-000000000000", FunctionName: names.functionName }],
  ["lambda", "DeleteEventSourceMappingCommand", { UUID: "14e0db71-0000-4000-8000-000000000000" }],
  // the on-failure bucket
  ...[
    "HeadBucket",
    "CreateBucket",
    "GetBucketTagging",
    "PutBucketTagging",
    "GetBucketLifecycleConfiguration",
    "PutBucketLifecycleConfiguration",
    "GetBucketEncryption",
    "PutBucketEncryption",
    "GetPublicAccessBlock",
    "PutPublicAccessBlock",
    "GetBucketPolicy",
    "PutBucketPolicy",
    "DeleteBucketPolicy",
    "ListObjectsV2",
    "ListObjectVersions",
    "DeleteBucket"
  ].map((c): readonly [IamCheck.Service, string, Record<string, unknown>] => ["s3", `${c}Command`, { Bucket: bucket }]),
  ["s3", "GetObjectCommand", { Bucket: bucket, Key: "aws/lambda/batch.json" }],
  ["s3", "DeleteObjectsCommand", { Bucket: bucket, Delete: { Objects: [{ Key: "a" }, { Key: "b", VersionId: "v1" }] } }],
  // the function's log group, the alarms and the dashboard
  ["logs", "DescribeLogGroupsCommand", { logGroupNamePrefix: `/aws/lambda/${names.functionName}` }],
  ["logs", "CreateLogGroupCommand", { logGroupName: `/aws/lambda/${names.functionName}`, tags: { "dyna-elite": "provisioned" } }],
  ["logs", "PutRetentionPolicyCommand", { logGroupName: `/aws/lambda/${names.functionName}`, retentionInDays: 30 }],
  ["logs", "ListTagsForResourceCommand", { resourceArn: `arn:aws:logs:${at.region}:${at.account}:log-group:/aws/lambda/${names.functionName}` }],
  ["logs", "DeleteLogGroupCommand", { logGroupName: `/aws/lambda/${names.functionName}` }],
  ...Alarms.KINDS.flatMap((kind): ReadonlyArray<readonly [IamCheck.Service, string, Record<string, unknown>]> => [
    ["cloudwatch", "DescribeAlarmsCommand", { AlarmNames: [Alarms.alarmName("", kind)] }],
    ["cloudwatch", "PutMetricAlarmCommand", { AlarmName: Alarms.alarmName("", kind), Tags: [{ Key: "dyna-elite", Value: "provisioned" }] }],
    ["cloudwatch", "ListTagsForResourceCommand", { ResourceARN: `arn:aws:cloudwatch:${at.region}:${at.account}:alarm:${Alarms.alarmName("", kind)}` }],
    ["cloudwatch", "DeleteAlarmsCommand", { AlarmNames: [Alarms.alarmName("", kind)] }]
  ]),
  ["cloudwatch", "GetDashboardCommand", { DashboardName: "DynaElite" }],
  ["cloudwatch", "PutDashboardCommand", { DashboardName: "DynaElite" }],
  ["cloudwatch", "DeleteDashboardsCommand", { DashboardNames: ["DynaElite"] }],
  // status, backfill, reconcile (with repair), elite export/events/watch, put-transaction, verify
  ["dynamodb", "DescribeStreamCommand", { StreamArn: streamArn }],
  ...Deployment.tableNames(names).map((t): readonly [IamCheck.Service, string, Record<string, unknown>] => ["dynamodb", "ScanCommand", { TableName: t, Segment: 0, TotalSegments: 4 }]),
  ["dynamodb", "QueryCommand", { TableName: names.transactions, KeyConditionExpression: "CustID = :c" }],
  ["dynamodb", "BatchGetItemCommand", { RequestItems: { [names.profiles]: { Keys: [] } } }],
  ["dynamodb", "GetItemCommand", { TableName: names.profiles, Key: { CustID: { S: "c" } } }],
  ["dynamodb", "UpdateItemCommand", profileWrite],
  ["dynamodb", "TransactWriteItemsCommand", {
    TransactItems: [{ Update: profileWrite }, { Put: { TableName: names.events, Item: { CustID: { S: "c#2" } }, ConditionExpression: "attribute_not_exists(CustID)" } }]
  }],
  ["dynamodb", "PutItemCommand", { TableName: names.transactions, Item: { CustID: { S: "c" }, TnNum: { N: "1" }, TnValue: { N: "400" } } }],
  ["dynamodb", "DeleteItemCommand", { TableName: names.transactions, Key: { CustID: { S: "c" }, TnNum: { N: "1" } } }],
  ["dynamodb", "DeleteItemCommand", { TableName: names.profiles, Key: { CustID: { S: "c" } } }]
]

/** verify: its test customer's CustEliteEvents items, read and removed; DynamoDB names the partition key they touch. */
const verifyEvents: ReadonlyArray<IamCheck.IamRequest> = [
  { action: "dynamodb:Query", resource: tableArn(names.events), context: { "dynamodb:LeadingKeys": ["dyna-verify-1a2b3c4d"] } },
  {
    action: "dynamodb:DeleteItem",
    resource: tableArn(names.events),
    context: { "dynamodb:LeadingKeys": ["dyna-verify-1a2b3c4d"], "dynamodb:Attributes": ["CustID", "ProfileVersion"] }
  }
]

const requests = [
  ...commands.flatMap(([service, command, input]) => IamCheck.sdkCallToIam(service, command, input, at, names.functionName)),
  ...verifyEvents
]

describe("the operator's IAM policy", () => {
  it("names only actions that exist, each on a resource of its type", async () => {
    assert.deepStrictEqual(await IamCheck.catalogue(OperatorPolicy.document(at, names, { adoptedRoleName: "JamRole" })), [])
    assert.deepStrictEqual(await IamCheck.catalogue(OperatorPolicy.document(OperatorPolicy.anywhere(), names)), [])
  })

  it("allows every call provision, teardown and the operations commands send", async () => {
    assert.deepStrictEqual(await IamCheck.simulate(OperatorPolicy.document(at, names), requests, at), [])
  })

  it("allows them too when printed without knowing the account or region", async () => {
    assert.deepStrictEqual(await IamCheck.simulate(OperatorPolicy.document(OperatorPolicy.anywhere(), names), requests, at), [])
  })

  it("grants no action that none of them needs", () => {
    const used = new Set(requests.map((r) => r.action))
    const granted = OperatorPolicy.document(at, names).Statement.flatMap((s) => s.Action)
    assert.deepStrictEqual(granted.filter((a) => !used.has(a)), [])
  })

  it("denies what is not ours", async () => {
    const otherTable = tableArn("SomeoneElsesTable")
    const forbidden: ReadonlyArray<IamCheck.IamRequest> = [
      { action: "dynamodb:DeleteTable", resource: otherTable },
      { action: "dynamodb:Scan", resource: otherTable },
      { action: "dynamodb:UpdateTable", resource: otherTable },
      { action: "dynamodb:UpdateItem", resource: tableArn(names.profiles), context: { "dynamodb:Attributes": ["CustID", "Email"] } },
      { action: "dynamodb:UpdateItem", resource: tableArn(names.transactions), context: { "dynamodb:Attributes": ["CustID", "TnValue"] } },
      { action: "dynamodb:DeleteItem", resource: tableArn(names.events), context: { "dynamodb:Attributes": ["CustID"], "dynamodb:LeadingKeys": ["c"] } },
      { action: "dynamodb:Query", resource: tableArn(names.events), context: { "dynamodb:LeadingKeys": ["c"] } },
      { action: "iam:PutRolePolicy", resource: `arn:aws:iam::${at.account}:role/Admin` },
      { action: "iam:DeleteRole", resource: `arn:aws:iam::${at.account}:role/JamRole` },
      { action: "iam:AttachRolePolicy", resource: roleArn },
      { action: "iam:PassRole", resource: roleArn, context: { "iam:PassedToService": "ec2.amazonaws.com" } },
      { action: "iam:PassRole", resource: `arn:aws:iam::${at.account}:role/Admin`, context: { "iam:PassedToService": "lambda.amazonaws.com" } },
      { action: "lambda:DeleteFunction", resource: `arn:aws:lambda:${at.region}:${at.account}:function:SomethingElse` },
      { action: "lambda:AddPermission", resource: functionArn },
      {
        action: "lambda:DeleteEventSourceMapping",
        resource: `arn:aws:lambda:${at.region}:${at.account}:event-source-mapping:00000000-0000-4000-8000-000000000000`,
        context: { "lambda:FunctionArn": `arn:aws:lambda:${at.region}:${at.account}:function:SomethingElse` }
      },
      { action: "lambda:CreateEventSourceMapping", resource: "*", context: { "lambda:FunctionArn": `arn:aws:lambda:${at.region}:${at.account}:function:SomethingElse` } },
      { action: "s3:DeleteBucket", resource: "arn:aws:s3:::someone-elses-bucket" },
      { action: "s3:GetObject", resource: "arn:aws:s3:::someone-elses-bucket/key" },
      { action: "s3:PutObject", resource: `arn:aws:s3:::${bucket}/forged.json` },
      { action: "cloudwatch:DeleteAlarms", resource: `arn:aws:cloudwatch:${at.region}:${at.account}:alarm:SomeoneElsesAlarm` },
      { action: "cloudwatch:PutDashboard", resource: `arn:aws:cloudwatch::${at.account}:dashboard/SomeoneElses` },
      { action: "logs:DeleteLogGroup", resource: `arn:aws:logs:${at.region}:${at.account}:log-group:/aws/lambda/SomethingElse` },
      { action: "logs:PutRetentionPolicy", resource: `arn:aws:logs:${at.region}:${at.account}:log-group:/aws/lambda/SomethingElse` }
    ]
    const denied = await IamCheck.simulate(OperatorPolicy.document(at, names, { adoptedRoleName: "JamRole" }), forbidden, at)
    assert.deepStrictEqual(denied.filter((d) => d.decision === "Invalid"), [], "requests the evaluator could not run prove nothing")
    assert.deepStrictEqual(forbidden.filter((f) => !denied.some((d) => IamCheck.requestKey(d.request) === IamCheck.requestKey(f))), [])
  })

  it("would catch a call it does not cover: PassRole missing denies CreateFunction", async () => {
    const policy = OperatorPolicy.document(at, names)
    const narrowed = { ...policy, Statement: policy.Statement.filter((s) => s.Sid !== "PassOurRoleToLambda") }
    const denied = await IamCheck.simulate(narrowed, requests, at)
    assert.deepStrictEqual(denied.map((d) => d.request.action), ["iam:PassRole"])
  })
})

describe("the operator policy, against the recorded provision and teardown", () => {
  const location: Deployment.Location = { partition: "aws", region: FakeAws.REGION, account: FakeAws.ACCOUNT }
  const target = { names, location }

  let artifact: Bundle.Artifact
  beforeAll(async () => {
    artifact = await Effect.runPromise(Bundle.make)
  }, 60_000)

  /** Every request the pretend account's clients were sent since it was made, as IAM sees them. */
  const recorded = () =>
    ([
      ["dynamodb", FakeAws.dynamo],
      ["lambda", FakeAws.lambda],
      ["iam", FakeAws.iam],
      ["s3", FakeAws.s3],
      ["cloudwatch", FakeAws.cloudWatch],
      ["logs", FakeAws.logs]
    ] as const).flatMap(([service, mock]) =>
      mock.calls().flatMap((call) => {
        const { command, input } = IamCheck.mockedCall(call)
        return IamCheck.sdkCallToIam(service, command, input, location, names.functionName)
      })
    )

  it("allows every request provision and teardown send, on a fresh account and on the Jam's", async () => {
    const requests: Array<IamCheck.IamRequest> = []
    for (const [prepare, adopted] of [[() => FakeAws.account(), undefined], [() => FakeAws.jamAccount().account, "JamLambdaRole"]] as const) {
      const account = prepare()
      await RunSteps.succeeded(awsSteps(target, Effect.sync(() => artifact)), { mode: "plan" })
      await RunSteps.succeeded(awsSteps(target, Effect.sync(() => artifact)), { yes: true })
      for (const name of Deployment.tableNames(names)) account.itemCounts.set(name, 1)
      await RunSteps.succeeded(awsTeardownSteps(target, { deleteData: true, forceDeleteData: true }), { yes: true })
      const calls = recorded()
      requests.push(...calls)

      const denied = await IamCheck.simulate(OperatorPolicy.document(location, names, adopted === undefined ? {} : { adoptedRoleName: adopted }), calls, location)

      assert.deepStrictEqual(denied, [])
    }
    // The recording covers what the issue names: the caller's account is read elsewhere (STS), the rest here.
    const actions = new Set(requests.map((r) => r.action))
    for (
      const action of [
        "dynamodb:CreateBackup",
        "lambda:PublishVersion",
        "dynamodb:ListTagsOfResource",
        "lambda:ListTags",
        "s3:CreateBucket",
        "iam:PassRole",
        "cloudwatch:PutMetricAlarm",
        "cloudwatch:TagResource",
        "cloudwatch:PutDashboard",
        "cloudwatch:DeleteDashboards",
        "logs:CreateLogGroup",
        "logs:PutRetentionPolicy",
        "logs:DeleteLogGroup"
      ]
    ) {
      assert.isTrue(actions.has(action), `${action} was recorded`)
    }
  })
})
