/**
 * The function role's one inline policy, least privilege: what the handler does and nothing more, on
 * the exact tables, stream, log group and on-failure bucket of one deployment. Checked against every
 * DynamoDB call the real handler makes in the tests by an IAM policy evaluator (test/FunctionPolicy.test.ts).
 */
import { type Location, type Names, onFailureBucketName } from "./Deployment.js"

/** One statement as we write it; a `Condition` narrows what its actions may touch. */
export interface Statement {
  readonly Sid: string
  readonly Effect: "Allow"
  readonly Action: ReadonlyArray<string>
  readonly Resource: ReadonlyArray<string>
  /** Operator → condition key → value(s), as IAM's JSON has it. */
  readonly Condition?: Readonly<Record<string, Readonly<Record<string, string | ReadonlyArray<string>>>>>
}

/** An IAM policy as JSON, typed so that the function's and the operator's policies are built and checked as data. */
export interface PolicyDocument {
  readonly Version: "2012-10-17"
  readonly Statement: ReadonlyArray<Statement>
}

/**
 * The CustProfile attributes the handler's conditional write names (`ProfileStore`): the key, then what
 * it sets or removes. Nothing else of a profile may be rewritten: the Jam's rows carry names and emails.
 */
export const PROFILE_ATTRIBUTES: ReadonlyArray<string> = [
  "CustID",
  "TotalTnValue",
  "CustStatus",
  "AppliedTn",
  "AppliedPages",
  "ProfileVersion",
  "EliteSince"
]

/** What the policy needs of a deployment's names. */
export type PolicyNames = Pick<Names, "prefix" | "transactions" | "profiles" | "rejected" | "events" | "functionName">

/** The inline policy, exactly as it is sent: what the handler (`Batch`, `ProfileStore.apply`, `Quarantine.put`) and its mapping do. */
export const policyDocument = (at: Location, names: PolicyNames): PolicyDocument => {
  const table = (name: string) => `arn:${at.partition}:dynamodb:${at.region}:${at.account}:table/${name}`
  const logGroup = `arn:${at.partition}:logs:${at.region}:${at.account}:log-group:/aws/lambda/${names.functionName}`
  const bucket = `arn:${at.partition}:s3:::${onFailureBucketName(names.prefix, at)}`
  return {
    Version: "2012-10-17",
    Statement: [
      {
        // Every stream of the table, not today's ARN: a replaced stream (a new view type) keeps working.
        Sid: "ReadTransactionsStream",
        Effect: "Allow",
        Action: ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"],
        Resource: [`${table(names.transactions)}/stream/*`]
      },
      {
        // ListStreams supports no resource-level permissions: the Service Authorization Reference
        // ("Actions, resources, and condition keys for Amazon DynamoDB") lists no resource type for it,
        // so only "*" grants it. It reveals stream ARNs, never records.
        Sid: "ListStreams",
        Effect: "Allow",
        Action: ["dynamodb:ListStreams"],
        Resource: ["*"]
      },
      {
        // ProfileStore: a batch's profiles read ahead in consistent BatchGetItems, a GetItem when one is
        // left unread or a race is lost.
        Sid: "ReadProfiles",
        Effect: "Allow",
        Action: ["dynamodb:BatchGetItem", "dynamodb:GetItem"],
        Resource: [table(names.profiles)]
      },
      {
        // One conditional UpdateItem per customer (alone, or inside a promotion's TransactWriteItems,
        // which IAM authorizes item by item), naming only our attributes: a request that names any other
        // (FirstName, Email) is denied. ForAllValues holds for every name the request touches.
        Sid: "UpdateOwnProfileAttributes",
        Effect: "Allow",
        Action: ["dynamodb:UpdateItem"],
        Resource: [table(names.profiles)],
        Condition: { "ForAllValues:StringEquals": { "dynamodb:Attributes": PROFILE_ATTRIBUTES } }
      },
      {
        // A promotion: the profile's UpdateItem and this PutItem in one TransactWriteItems (there is no
        // TransactWriteItems permission); a hot customer's applied-log pages are put here too.
        Sid: "RecordPromotions",
        Effect: "Allow",
        Action: ["dynamodb:PutItem"],
        Resource: [table(names.events)]
      },
      {
        // A hot customer's applied-log pages, read back only for an id in a page's range.
        Sid: "ReadAppliedPages",
        Effect: "Allow",
        Action: ["dynamodb:BatchGetItem", "dynamodb:GetItem"],
        Resource: [table(names.events)]
      },
      {
        // Quarantine.put: one conditional PutItem per record that can never be applied.
        Sid: "QuarantineRejected",
        Effect: "Allow",
        Action: ["dynamodb:PutItem"],
        Resource: [table(names.rejected)]
      },
      {
        Sid: "OwnLogGroup",
        Effect: "Allow",
        Action: ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
        Resource: [logGroup, `${logGroup}:*`]
      },
      {
        // The event source mapping writes the batches it gives up on to the S3 on-failure destination
        // with the function's role; Lambda's guide asks for s3:PutObject and s3:ListBucket on the bucket
        // ("Capturing discarded batches ...": "For an S3 destination: s3:PutObject and s3:ListBucket").
        // Bucket names are global: if ours were ever deleted, another account could take the name and
        // receive these records. s3:ResourceAccount keeps the grant to a bucket in our own account.
        Sid: "OnFailureObjects",
        Effect: "Allow",
        Action: ["s3:PutObject"],
        Resource: [`${bucket}/*`],
        Condition: { StringEquals: { "s3:ResourceAccount": [at.account] } }
      },
      {
        Sid: "OnFailureBucket",
        Effect: "Allow",
        Action: ["s3:ListBucket"],
        Resource: [bucket],
        Condition: { StringEquals: { "s3:ResourceAccount": [at.account] } }
      }
    ]
  }
}
