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
import { type OwnerTag } from "@dyna/aws/Deployment"
import { Iam } from "../clients/Iam.js"
import * as Retry from "@dyna/aws/Retry"
import { change, noChange, type Outcome } from "./Step.js"

import type { PolicyDocument } from "@dyna/aws/FunctionPolicy"

export { policyDocument, type PolicyDocument, type Statement } from "@dyna/aws/FunctionPolicy"

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

// A stored policy, as IAM gives it back: a single action or resource may be a plain string.
const OneOrMany = Schema.Union([Schema.String, Schema.Array(Schema.String)])
const StoredStatement = Schema.Struct({
  Sid: Schema.optional(Schema.String),
  Effect: Schema.String,
  Action: OneOrMany,
  Resource: OneOrMany,
  // Operator → condition key → value(s): FunctionPolicy narrows UpdateItem by dynamodb:Attributes.
  Condition: Schema.optional(Schema.Record(Schema.String, Schema.Record(Schema.String, OneOrMany)))
})
const StoredPolicy = Schema.Struct({
  Version: Schema.String,
  Statement: Schema.Union([StoredStatement, Schema.Array(StoredStatement)])
})
// Anything we do not write (a NotAction, a Principal) makes the stored policy differ from ours.
const decodeStored = Schema.decodeUnknownOption(Schema.fromJsonString(StoredPolicy), { onExcessProperty: "error" })

const list = (value: string | ReadonlyArray<string>) => (typeof value === "string" ? [value] : [...value].sort())

/** A policy document with each action and resource list sorted, so that order and plain strings do not count as changes. */
const normalized = (policy: typeof StoredPolicy.Type) => ({
  Version: policy.Version,
  Statement: (Array.isArray(policy.Statement) ? policy.Statement : [policy.Statement]).map((s: typeof StoredStatement.Type) => ({
    Sid: s.Sid,
    Effect: s.Effect,
    Action: list(s.Action),
    Resource: list(s.Resource),
    Condition: s.Condition === undefined
      ? undefined
      : Object.fromEntries(Object.entries(s.Condition).map(([op, keys]) => [op, Object.fromEntries(Object.entries(keys).map(([k, v]) => [k, list(v)]))]))
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

/** Whether this deployment's provision created the role: it carries our owner tag with this deployment's value. */
export const isOurs = (role: { readonly Tags?: ReadonlyArray<Tag> | undefined }, owner: OwnerTag): boolean =>
  (role.Tags ?? []).some((tag) => tag.Key === owner.key && tag.Value === owner.value)

// A trust policy as IAM stores it: Principal and Action may be one value or a list.
const TrustStatement = Schema.Struct({
  Effect: Schema.String,
  Principal: Schema.optional(Schema.Struct({ Service: Schema.optional(OneOrMany) })),
  Action: Schema.optional(OneOrMany)
})
const decodeTrust = Schema.decodeUnknownOption(
  Schema.fromJsonString(Schema.Struct({ Statement: Schema.Union([TrustStatement, Schema.Array(TrustStatement)]) })),
  { onExcessProperty: "error" }
)

/** Whether the role's trust policy lets Lambda, and only Lambda, assume it (as the one we create does). */
export const trustsOnlyLambda = (document: string | undefined): boolean => {
  const decoded = Option.fromUndefinedOr(document).pipe(Option.flatMap((d) => Option.fromUndefinedOr(urlDecoded(d))), Option.flatMap(decodeTrust))
  if (Option.isNone(decoded)) return false
  const statements = Array.isArray(decoded.value.Statement) ? decoded.value.Statement : [decoded.value.Statement]
  return statements.length > 0 && statements.every((st) =>
    st.Effect === "Allow" &&
    st.Principal?.Service !== undefined && isDeepStrictEqual(list(st.Principal.Service), ["lambda.amazonaws.com"]) &&
    st.Action !== undefined && isDeepStrictEqual(list(st.Action), ["sts:AssumeRole"])
  )
}

/** A role of our name exists that this deployment did not create, or that something other than Lambda may assume. */
export class RoleNotOurs extends Schema.TaggedError<RoleNotOurs>()("RoleNotOurs", {
  roleArn: Schema.String,
  reason: Schema.Literals(["untagged", "trust"])
}) {
  override get message() {
    return this.reason === "untagged"
      ? `role ${this.roleArn} exists but was not created by this deployment's provision (it lacks our owner tag); ` +
        "it is not reused: choose another --prefix, or delete or rename that role yourself"
      : `role ${this.roleArn} may be assumed by more than lambda.amazonaws.com; it is not reused: fix its trust policy or delete it yourself`
  }
}

/**
 * The role a new function runs as: created (tagged, trusted by Lambda only) when missing; reused only
 * when this deployment created it and only Lambda may assume it, else refused.
 */
export const decideRole = Effect.fn("Role.decideRole")(function*(roleName: string, owner: OwnerTag, arnIfCreated: string) {
  const existing = yield* describe(roleName)
  if (existing !== undefined) {
    const arn = existing.Arn ?? roleName
    if (!isOurs(existing, owner)) return yield* new RoleNotOurs({ roleArn: arn, reason: "untagged" })
    if (!trustsOnlyLambda(existing.AssumeRolePolicyDocument)) return yield* new RoleNotOurs({ roleArn: arn, reason: "trust" })
    return noChange({ action: "unchanged", resource: arn, detail: "assumable by Lambda only" })
  }
  return change({ action: "created", resource: arnIfCreated, detail: "assumable by Lambda only" }, Effect.gen(function*() {
    const iam = yield* Iam
    const created = yield* iam.call("CreateRole", (c) =>
      c.send(
        new CreateRoleCommand({
          RoleName: roleName,
          AssumeRolePolicyDocument: JSON.stringify(trustPolicy),
          Description: "Dyna Elite's stream function: reads the CustTransactions stream, writes CustProfile",
          Tags: [{ Key: owner.key, Value: owner.value }]
        })
      ))
    const arn = created.Role?.Arn
    if (arn === undefined) return yield* Effect.die(new Error(`CreateRole ${roleName} answered without the role's ARN`))
    return { action: "created", resource: arn, detail: "assumable by Lambda only" } satisfies Outcome
  }))
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
export const decidePolicy = Effect.fn("Role.decidePolicy")(function*(roleName: string, policyName: string, document: PolicyDocument) {
  const stored = yield* storedPolicy(roleName, policyName)
  const resource = `${policyName} on role ${roleName}`
  if (stored !== undefined && sameDocument(stored, document)) return noChange({ action: "unchanged", resource })
  const action = stored === undefined ? "created" : "updated"
  const detail = "the stream, the profile, events and quarantine tables, the on-failure bucket, its own log group"
  return change({ action, resource, detail }, Effect.gen(function*() {
    const iam = yield* Iam
    yield* iam.call("PutRolePolicy", (c) =>
      c.send(new PutRolePolicyCommand({ RoleName: roleName, PolicyName: policyName, PolicyDocument: JSON.stringify(document) })))
    return { action, resource, detail } satisfies Outcome
  }))
})

/** Deletes our inline policy from the role; a missing role or policy is left as it is. */
export const decideRemovePolicy = Effect.fn("Role.decideRemovePolicy")(function*(roleName: string, policyName: string) {
  const resource = `${policyName} on role ${roleName}`
  if ((yield* storedPolicy(roleName, policyName)) === undefined) return noChange({ action: "unchanged", resource, detail: "not there" })
  return change({ action: "deleted", resource }, deletePolicy(roleName, policyName).pipe(Effect.as<Outcome>({ action: "deleted", resource })))
})

/**
 * Deletes the role if this deployment's provision created it (it carries our owner tag), with the inline
 * policies IAM requires gone first; a role that was there before provision is kept.
 */
export const decideRemove = Effect.fn("Role.decideRemove")(function*(roleName: string, owner: OwnerTag) {
  const role = yield* describe(roleName)
  if (role === undefined) return noChange({ action: "unchanged", resource: roleName, detail: "not there" })
  const resource = role.Arn ?? roleName
  if (!isOurs(role, owner)) return noChange({ action: "kept", resource, detail: "it was there before provision" })
  return change({ action: "deleted", resource }, Effect.gen(function*() {
    const iam = yield* Iam
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
  }))
})
