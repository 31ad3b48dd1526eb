/**
 * The least an operator's identity must be allowed to run `provision`, `teardown` and the operations
 * commands with `--target aws`: our four tables and their stream, our role, our function and its
 * mappings, the on-failure bucket, the function's log group, our alarms and dashboard, nothing else. Printed by `pnpm provision --print-operator-policy`;
 * checked against the calls those commands send by an IAM evaluator (test/OperatorPolicy.test.ts).
 */
import { type Location, type Names, onFailureBucketName, tableNames } from "@dyna/aws/Deployment"
import { alarmName, KINDS } from "./Alarms.js"
import { dashboardName } from "./Dashboard.js"
import { logGroupName } from "./LogRetention.js"
import { type PolicyDocument, PROFILE_ATTRIBUTES, type Statement } from "@dyna/aws/FunctionPolicy"

/**
 * A location for when the account (or region) is not known, as before any credentials: `*` matches
 * any, so the policy is still bound to our names. With credentials, STS's account and the configured
 * region give the exact ARNs.
 */
export const anywhere = (partition = "aws", region = "*"): Location => ({ partition, region, account: "*" })

export interface Options {
  /**
   * An adopted function's own role (the Jam's), which provision puts its inline policy on: the operator
   * may read, put and delete inline policies there, never create or delete that role.
   */
  readonly adoptedRoleName?: string
}

/** The operator's policy for one deployment. */
export const document = (
  at: Location,
  names: Pick<Names, "prefix" | "transactions" | "profiles" | "rejected" | "events" | "functionName" | "roleName">,
  options: Options = {}
): PolicyDocument => {
  const table = (name: string) => `arn:${at.partition}:dynamodb:${at.region}:${at.account}:table/${name}`
  const role = (name: string) => `arn:${at.partition}:iam::${at.account}:role/${name}`
  const functionArn = `arn:${at.partition}:lambda:${at.region}:${at.account}:function:${names.functionName}`
  const bucket = `arn:${at.partition}:s3:::${onFailureBucketName(names.prefix, at)}`
  const allow = (Sid: string, Action: ReadonlyArray<string>, Resource: ReadonlyArray<string>, Condition?: Statement["Condition"]): Statement => ({
    Sid,
    Effect: "Allow",
    Action,
    Resource,
    ...(Condition === undefined ? {} : { Condition })
  })
  const dynamo = (actions: ReadonlyArray<string>) => actions.map((a) => `dynamodb:${a}`)
  return {
    Version: "2012-10-17",
    Statement: [
      // provision and teardown: the tables, their stream setting, tags, TTL and the backup taken before a delete.
      allow(
        "OurTables",
        dynamo([
          "CreateTable",
          "DescribeTable",
          "UpdateTable",
          "DeleteTable",
          "CreateBackup",
          "TagResource",
          "UntagResource",
          "ListTagsOfResource",
          "DescribeTimeToLive",
          "UpdateTimeToLive"
        ]),
        tableNames(names).map(table)
      ),
      // teardown waits for the backup it took to be AVAILABLE before it deletes the table.
      allow("OurBackups", dynamo(["DescribeBackup"]), tableNames(names).map((t) => `${table(t)}/backup/*`)),
      // replay: a record's row, read as it is now.
      allow("ReplayRows", dynamo(["GetItem"]), [table(names.transactions)]),
      // replay: a replayed record leaves the quarantine; one that stays gets its new reason.
      allow("ReplayQuarantine", dynamo(["PutItem", "UpdateItem", "DeleteItem"]), [table(names.rejected)]),
      // status: the stream's shards.
      allow("TransactionsStream", dynamo(["DescribeStream"]), [`${table(names.transactions)}/stream/*`]),
      // backfill, reconcile (Scan, Query a customer's rows); put-transaction and verify write and remove rows.
      allow("TransactionsRows", dynamo(["Scan", "Query", "PutItem", "DeleteItem"]), [table(names.transactions)]),
      // backfill, reconcile, elite export, verify: read profiles; verify removes its own test customer.
      allow("ReadProfiles", dynamo(["Scan", "GetItem", "BatchGetItem", "DeleteItem"]), [table(names.profiles)]),
      // backfill and repair recount through the handler's own conditional write: the same attributes only.
      allow("RecountProfiles", dynamo(["UpdateItem"]), [table(names.profiles)], {
        "ForAllValues:StringEquals": { "dynamodb:Attributes": PROFILE_ATTRIBUTES }
      }),
      // elite events and watch read promotions; a recount that promotes writes one.
      allow("EliteEvents", dynamo(["Scan", "PutItem"]), [table(names.events)]),
      // verify removes what its test customer left there (its event, any applied-log pages), and no one else's.
      allow("VerifyEvents", dynamo(["Query", "DeleteItem"]), [table(names.events)], {
        "ForAllValues:StringLike": { "dynamodb:LeadingKeys": ["dyna-verify-*"] }
      }),
      // status counts what was set aside.
      allow("Rejected", dynamo(["Scan"]), [table(names.rejected)]),
      // provision and teardown: our role and its inline policy (tags at creation are TagRole).
      allow(
        "OurRole",
        ["iam:GetRole", "iam:CreateRole", "iam:TagRole", "iam:DeleteRole", "iam:GetRolePolicy", "iam:PutRolePolicy", "iam:DeleteRolePolicy", "iam:ListRolePolicies"],
        [role(names.roleName)]
      ),
      ...(options.adoptedRoleName === undefined ? [] : [
        allow("AdoptedRolePolicy", ["iam:GetRole", "iam:GetRolePolicy", "iam:PutRolePolicy", "iam:DeleteRolePolicy"], [role(options.adoptedRoleName)])
      ]),
      // CreateFunction hands our role to Lambda, and to nothing else.
      allow("PassOurRoleToLambda", ["iam:PassRole"], [role(names.roleName)], {
        StringEquals: { "iam:PassedToService": "lambda.amazonaws.com" }
      }),
      allow(
        "OurFunction",
        [
          "lambda:GetFunction",
          "lambda:GetFunctionConfiguration",
          "lambda:CreateFunction",
          "lambda:UpdateFunctionCode",
          "lambda:UpdateFunctionConfiguration",
          "lambda:PublishVersion",
          "lambda:ListVersionsByFunction",
          "lambda:DeleteFunction",
          "lambda:InvokeFunction",
          "lambda:TagResource",
          "lambda:UntagResource",
          "lambda:ListTags"
        ],
        [functionArn]
      ),
      // ListEventSourceMappings takes no resource; the mappings are then touched only when they invoke our function.
      allow("ListMappings", ["lambda:ListEventSourceMappings"], ["*"]),
      // Which mappings are ours is read off their tags; provision tags the one it creates.
      allow("MappingTags", ["lambda:ListTags", "lambda:TagResource"], [`arn:${at.partition}:lambda:${at.region}:${at.account}:event-source-mapping:*`]),
      allow("CreateOurMapping", ["lambda:CreateEventSourceMapping"], ["*"], { ArnEquals: { "lambda:FunctionArn": functionArn } }),
      allow(
        "OurMappings",
        ["lambda:GetEventSourceMapping", "lambda:UpdateEventSourceMapping", "lambda:DeleteEventSourceMapping"],
        [`arn:${at.partition}:lambda:${at.region}:${at.account}:event-source-mapping:*`],
        { ArnEquals: { "lambda:FunctionArn": functionArn } }
      ),
      // The on-failure bucket: made, configured, read by status, emptied and deleted by teardown.
      allow(
        "OnFailureBucket",
        [
          "s3:CreateBucket",
          "s3:ListBucket",
          "s3:ListBucketVersions",
          "s3:DeleteBucket",
          "s3:GetBucketTagging",
          "s3:PutBucketTagging",
          "s3:GetLifecycleConfiguration",
          "s3:PutLifecycleConfiguration",
          "s3:GetEncryptionConfiguration",
          "s3:PutEncryptionConfiguration",
          "s3:GetBucketPublicAccessBlock",
          "s3:PutBucketPublicAccessBlock",
          "s3:GetBucketPolicy",
          "s3:PutBucketPolicy",
          "s3:DeleteBucketPolicy"
        ],
        [bucket]
      ),
      allow("OnFailureObjects", ["s3:GetObject", "s3:DeleteObject", "s3:DeleteObjectVersion"], [`${bucket}/*`]),
      // The function's log group: created (tagged) when Lambda has not made it yet, its retention set, deleted by teardown.
      allow(
        "FunctionLogGroup",
        ["logs:CreateLogGroup", "logs:TagResource", "logs:ListTagsForResource", "logs:PutRetentionPolicy", "logs:DeleteLogGroup"],
        [`arn:${at.partition}:logs:${at.region}:${at.account}:log-group:${logGroupName(names.functionName)}`]
      ),
      // DescribeLogGroups takes no resource; it finds the group by its name.
      allow("FindLogGroup", ["logs:DescribeLogGroups"], ["*"]),
      // Our alarms, by name (tags at creation are TagResource), and our dashboard.
      allow(
        "OurAlarms",
        ["cloudwatch:DescribeAlarms", "cloudwatch:PutMetricAlarm", "cloudwatch:TagResource", "cloudwatch:ListTagsForResource", "cloudwatch:DeleteAlarms"],
        KINDS.map((kind) => `arn:${at.partition}:cloudwatch:${at.region}:${at.account}:alarm:${alarmName(names.prefix, kind)}`)
      ),
      allow(
        "OurDashboard",
        ["cloudwatch:GetDashboard", "cloudwatch:PutDashboard", "cloudwatch:DeleteDashboards"],
        [`arn:${at.partition}:cloudwatch::${at.account}:dashboard/${dashboardName(names.prefix)}`]
      ),
      // Which account the credentials are for: the ARNs and the bucket name need it. Takes no resource.
      allow("WhoAmI", ["sts:GetCallerIdentity"], ["*"])
    ]
  }
}

/** The policy as `--print-operator-policy` prints it: JSON an operator pastes into IAM. */
export const render = (policy: PolicyDocument): string => JSON.stringify(policy, null, 2)
