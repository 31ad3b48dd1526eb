/**
 * IAM in the pretend account: roles and their inline policies; documents come back URL-encoded, as IAM
 * sends them, and a role keeps its tags. A role with inline policies left cannot be deleted.
 */
import {
  CreateRoleCommand,
  type CreateRoleCommandInput,
  DeleteConflictException,
  DeleteRoleCommand,
  type DeleteRoleCommandInput,
  DeleteRolePolicyCommand,
  type DeleteRolePolicyCommandInput,
  EntityAlreadyExistsException,
  GetRoleCommand,
  type GetRoleCommandInput,
  GetRolePolicyCommand,
  type GetRolePolicyCommandInput,
  IAMClient,
  ListRolePoliciesCommand,
  type ListRolePoliciesCommandInput,
  NoSuchEntityException,
  PutRolePolicyCommand,
  type PutRolePolicyCommandInput,
  type Tag
} from "@aws-sdk/client-iam"
import { mockClient } from "aws-sdk-client-mock"
import * as Layer from "effect/Layer"
import { Iam } from "../../src/clients/Iam.js"
import { type Account, credentials, meta, PAGE_SIZE, REGION, roleArn } from "./FakeAccount.js"

// Mocked once per test file, on the client class: any IAM client built anywhere is mocked, none reaches AWS.
export const iam = mockClient(IAMClient)

/** Our Iam service over a real SDK client (mocked above), as the AWS target builds it. */
export const service = Layer.succeed(Iam, Iam.fromClient(new IAMClient({ region: REGION, credentials })))

/** A role at `path` (`service-role/JamLambdaRole`), named after its last segment. */
export interface RoleSeed {
  readonly path: string
  readonly tags?: ReadonlyArray<Tag>
  readonly trust?: string
}

/** Puts the roles in the account. */
export const seed = (account: Account, roles: ReadonlyArray<RoleSeed>) => {
  for (const r of roles) {
    const name = r.path.split("/").at(-1) ?? r.path
    account.roles.set(name, { arn: roleArn(r.path), trust: r.trust ?? "{}", tags: r.tags ?? [] })
  }
}

/** Resets the mock and answers IAM's role commands from the account. */
export const install = (account: Account) => {
  const { roles, policies, injected } = account

  iam.reset()
  iam.onAnyCommand().rejects(new Error("the fake account does not model this IAM command"))
  iam.on(GetRoleCommand).callsFake(async (input: GetRoleCommandInput) => {
    injected("GetRole")
    const role = roles.get(input.RoleName ?? "")
    if (role === undefined) throw new NoSuchEntityException({ message: `The role with name ${input.RoleName} cannot be found.`, ...meta })
    const tags = role.tags.length === 0 ? {} : { Tags: [...role.tags] }
    return {
      Role: {
        RoleName: input.RoleName,
        Arn: role.arn,
        Path: "/",
        RoleId: "AROAFAKE",
        CreateDate: new Date(0),
        AssumeRolePolicyDocument: encodeURIComponent(role.trust),
        ...tags
      }
    }
  })
  iam.on(CreateRoleCommand).callsFake(async (input: CreateRoleCommandInput) => {
    injected("CreateRole")
    const name = input.RoleName ?? ""
    if (roles.has(name)) throw new EntityAlreadyExistsException({ message: `Role with name ${name} already exists.`, ...meta })
    roles.set(name, { arn: roleArn(name), trust: input.AssumeRolePolicyDocument ?? "", tags: input.Tags ?? [] })
    return { Role: { RoleName: name, Arn: roleArn(name), Path: "/", RoleId: "AROAFAKE", CreateDate: new Date(0) } }
  })
  iam.on(GetRolePolicyCommand).callsFake(async (input: GetRolePolicyCommandInput) => {
    injected("GetRolePolicy")
    if (!roles.has(input.RoleName ?? "")) throw new NoSuchEntityException({ message: `The role ${input.RoleName} cannot be found.`, ...meta })
    const document = policies.get(`${input.RoleName}/${input.PolicyName}`)
    if (document === undefined) {
      throw new NoSuchEntityException({ message: `The role policy with name ${input.PolicyName} cannot be found.`, ...meta })
    }
    return { RoleName: input.RoleName, PolicyName: input.PolicyName, PolicyDocument: encodeURIComponent(document) }
  })
  iam.on(PutRolePolicyCommand).callsFake(async (input: PutRolePolicyCommandInput) => {
    injected("PutRolePolicy")
    if (!roles.has(input.RoleName ?? "")) throw new NoSuchEntityException({ message: `The role ${input.RoleName} cannot be found.`, ...meta })
    policies.set(`${input.RoleName}/${input.PolicyName}`, input.PolicyDocument ?? "")
    return {}
  })
  const inlinePolicies = (roleName: string) =>
    [...policies.keys()].filter((key) => key.startsWith(`${roleName}/`)).map((key) => key.slice(roleName.length + 1))
  iam.on(ListRolePoliciesCommand).callsFake(async (input: ListRolePoliciesCommandInput) => {
    injected("ListRolePolicies")
    if (!roles.has(input.RoleName ?? "")) throw new NoSuchEntityException({ message: `The role ${input.RoleName} cannot be found.`, ...meta })
    const start = Number(input.Marker ?? "0")
    const all = inlinePolicies(input.RoleName ?? "")
    const more = start + PAGE_SIZE < all.length
    return { PolicyNames: all.slice(start, start + PAGE_SIZE), IsTruncated: more, ...(more ? { Marker: String(start + PAGE_SIZE) } : {}) }
  })
  iam.on(DeleteRolePolicyCommand).callsFake(async (input: DeleteRolePolicyCommandInput) => {
    injected("DeleteRolePolicy")
    const key = `${input.RoleName}/${input.PolicyName}`
    if (!policies.has(key)) {
      throw new NoSuchEntityException({ message: `The role policy with name ${input.PolicyName} cannot be found.`, ...meta })
    }
    policies.delete(key)
    return {}
  })
  iam.on(DeleteRoleCommand).callsFake(async (input: DeleteRoleCommandInput) => {
    injected("DeleteRole")
    const name = input.RoleName ?? ""
    if (!roles.has(name)) throw new NoSuchEntityException({ message: `The role with name ${name} cannot be found.`, ...meta })
    if (inlinePolicies(name).length > 0) throw new DeleteConflictException({ message: "Cannot delete entity, must delete policies first.", ...meta })
    roles.delete(name)
    return {}
  })
}
