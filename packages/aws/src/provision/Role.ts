/**
 * The function's role and its one inline policy, least privilege: the transactions stream, the two
 * tables the handler writes, its own log group. A new function runs as our role; an adopted one (the
 * Jam's) keeps its own, and the policy goes on that. Teardown removes the policy, and the role only if
 * it carries our owner tag.
 */
import {
  CreateRoleCommand,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  paginateListRolePolicies,
  PutRolePolicyCommand,
  type Role,
  type Tag
} from "@aws-sdk/client-iam"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { isDeepStrictEqual } from "node:util"
import { type Names, OWNER_TAG } from "../Deployment.js"
import { Iam } from "../Iam.js"
import * as Retry from "../Retry.js"
import type { Outcome } from "./Step.js"

export interface Statement {
  readonly Sid: string
  readonly Effect: "Allow"
  readonly Action: ReadonlyArray<string>
  readonly Resource: ReadonlyArray<string>
}

export interface PolicyDocument {
  readonly Version: "2012-10-17"
  readonly Statement: ReadonlyArray<Statement>
}

/** Where a deployment lives, as its table's ARN says. */
export interface Location {
  readonly partition: string
  readonly region: string
  readonly account: string
}

/** Only Lambda may assume the role we create. */
export const trustPolicy = {
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" }]
} as const

/** The inline policy, exactly as it is sent: what the handler (`Batch`, `ProfileStore.apply`, `Quarantine.put`) does, nothing more. */
export const policyDocument = (
  at: Location,
  names: Pick<Names, "transactions" | "profiles" | "rejected" | "events" | "functionName">
): PolicyDocument => {
  const table = (name: string) => `arn:${at.partition}:dynamodb:${at.region}:${at.account}:table/${name}`
  const logGroup = `arn:${at.partition}:logs:${at.region}:${at.account}:log-group:/aws/lambda/${names.functionName}`
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
        // ProfileStore: a batch's profiles read ahead in consistent BatchGetItems (a GetItem when one is
        // left unread or a race is lost), then one conditional UpdateItem per customer.
        Sid: "ApplyToProfiles",
        Effect: "Allow",
        Action: ["dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:UpdateItem"],
        Resource: [table(names.profiles)]
      },
      {
        // A promotion: the profile's UpdateItem and this PutItem in one TransactWriteItems, which IAM
        // authorizes action by action (there is no TransactWriteItems permission).
        Sid: "RecordPromotions",
        Effect: "Allow",
        Action: ["dynamodb:PutItem"],
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
      }
    ]
  }
}

// A stored policy, as IAM gives it back: a single action or resource may be a plain string.
const OneOrMany = Schema.Union([Schema.String, Schema.Array(Schema.String)])
const StoredStatement = Schema.Struct({
  Sid: Schema.optional(Schema.String),
  Effect: Schema.String,
  Action: OneOrMany,
  Resource: OneOrMany
})
const StoredPolicy = Schema.Struct({
  Version: Schema.String,
  Statement: Schema.Union([StoredStatement, Schema.Array(StoredStatement)])
})
// Anything we do not write (a Condition, a NotAction) makes the stored policy differ from ours.
const decodeStored = Schema.decodeUnknownOption(Schema.fromJsonString(StoredPolicy), { onExcessProperty: "error" })

const list = (value: string | ReadonlyArray<string>) => (typeof value === "string" ? [value] : [...value].sort())

/** A policy document with each action and resource list sorted, so that order and plain strings do not count as changes. */
const normalized = (policy: typeof StoredPolicy.Type) => ({
  Version: policy.Version,
  Statement: (Array.isArray(policy.Statement) ? policy.Statement : [policy.Statement]).map((s: typeof StoredStatement.Type) => ({
    Sid: s.Sid,
    Effect: s.Effect,
    Action: list(s.Action),
    Resource: list(s.Resource)
  }))
})

const urlDecoded = (text: string): string | undefined => {
  try {
    return decodeURIComponent(text)
  } catch {
    return undefined
  }
}

/** Whether the document IAM returned (URL-encoded JSON) grants exactly what `wanted` does. */
export const sameDocument = (stored: string, wanted: PolicyDocument): boolean => {
  const decoded = Option.fromUndefinedOr(urlDecoded(stored)).pipe(Option.flatMap(decodeStored))
  return Option.isSome(decoded) && isDeepStrictEqual(normalized(decoded.value), normalized(wanted))
}

/** The role (with its tags), or `undefined` when no role has that name. */
export const describe = Effect.fn("Role.describe")(function*(roleName: string) {
  const iam = yield* Iam
  return yield* Retry.onTransient(iam.call("GetRole", (c) => c.send(new GetRoleCommand({ RoleName: roleName })))).pipe(
    Effect.map((out): Role | undefined => out.Role),
    Effect.catchTag("IamError", (e) => (e.kind === "NotFound" ? Effect.succeed(undefined) : Effect.fail(e)))
  )
})

/** Whether provision created the role: it carries our owner tag. */
export const isOurs = (role: { readonly Tags?: ReadonlyArray<Tag> | undefined }): boolean =>
  (role.Tags ?? []).some((tag) => tag.Key === OWNER_TAG.key && tag.Value === OWNER_TAG.value)

/** Creates the role, tagged as ours, unless one of that name exists; an existing role is used as it is. */
export const ensureRole = Effect.fn("Role.ensureRole")(function*(roleName: string) {
  const iam = yield* Iam
  const existing = (yield* describe(roleName))?.Arn
  if (existing !== undefined) return { action: "unchanged", arn: existing } as const
  const created = yield* iam.call("CreateRole", (c) =>
    c.send(
      new CreateRoleCommand({
        RoleName: roleName,
        AssumeRolePolicyDocument: JSON.stringify(trustPolicy),
        Description: "Dyna Elite's stream function: reads the CustTransactions stream, writes CustProfile",
        Tags: [{ Key: OWNER_TAG.key, Value: OWNER_TAG.value }]
      })
    ))
  const arn = created.Role?.Arn
  if (arn === undefined) return yield* Effect.die(new Error(`CreateRole ${roleName} answered without the role's ARN`))
  return { action: "created", arn } as const
})

/** The inline policy's document as IAM stores it (URL-encoded), or `undefined` when the role or the policy is missing. */
const storedPolicy = (roleName: string, policyName: string) =>
  Effect.gen(function*() {
    const iam = yield* Iam
    return yield* Retry.onTransient(
      iam.call("GetRolePolicy", (c) => c.send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName: policyName })))
    ).pipe(
      Effect.map((out) => out.PolicyDocument),
      Effect.catchTag("IamError", (e) => (e.kind === "NotFound" ? Effect.succeed(undefined) : Effect.fail(e)))
    )
  })

const deletePolicy = (roleName: string, policyName: string) =>
  Effect.gen(function*() {
    const iam = yield* Iam
    yield* Retry.onTransient(
      iam.call("DeleteRolePolicy", (c) => c.send(new DeleteRolePolicyCommand({ RoleName: roleName, PolicyName: policyName })))
    )
  })

/** Puts our inline policy on the role unless it is there already, granting exactly the same. */
export const ensurePolicy = Effect.fn("Role.ensurePolicy")(function*(roleName: string, policyName: string, document: PolicyDocument) {
  const iam = yield* Iam
  const stored = yield* storedPolicy(roleName, policyName)
  const resource = `${policyName} on role ${roleName}`
  if (stored !== undefined && sameDocument(stored, document)) return { action: "unchanged", resource } satisfies Outcome
  yield* iam.call("PutRolePolicy", (c) =>
    c.send(new PutRolePolicyCommand({ RoleName: roleName, PolicyName: policyName, PolicyDocument: JSON.stringify(document) })))
  return {
    action: stored === undefined ? "created" : "updated",
    resource,
    detail: "the stream, the profile and quarantine tables, its own log group"
  } satisfies Outcome
})

/** Deletes our inline policy from the role; a missing role or policy is left as it is. */
export const removePolicy = Effect.fn("Role.removePolicy")(function*(roleName: string, policyName: string) {
  const resource = `${policyName} on role ${roleName}`
  if ((yield* storedPolicy(roleName, policyName)) === undefined) {
    return { action: "unchanged", resource, detail: "not there" } satisfies Outcome
  }
  yield* deletePolicy(roleName, policyName)
  return { action: "deleted", resource } satisfies Outcome
})

/**
 * Deletes the role if provision created it (it carries our owner tag), with the inline policies IAM
 * requires gone first; a role that was there before provision is kept.
 */
export const remove = Effect.fn("Role.remove")(function*(roleName: string) {
  const iam = yield* Iam
  const role = yield* describe(roleName)
  if (role === undefined) return { action: "unchanged", resource: roleName, detail: "not there" } satisfies Outcome
  const resource = role.Arn ?? roleName
  if (!isOurs(role)) return { action: "kept", resource, detail: "it was there before provision" } satisfies Outcome
  const inline = yield* Retry.onTransient(iam.call("ListRolePolicies", async (client) => {
    const policyNames: Array<string> = []
    for await (const page of paginateListRolePolicies({ client }, { RoleName: roleName })) policyNames.push(...(page.PolicyNames ?? []))
    return policyNames
  }))
  yield* Effect.forEach(inline, (policyName) => deletePolicy(roleName, policyName), { discard: true })
  yield* Retry.onTransient(iam.call("DeleteRole", (c) => c.send(new DeleteRoleCommand({ RoleName: roleName }))))
  return {
    action: "deleted",
    resource,
    ...(inline.length === 0 ? {} : { detail: `with its inline policies ${inline.join(", ")}` })
  } satisfies Outcome
})
