/**
 * `pnpm teardown --target aws`, in order: the stream mapping, our policy, then the function and its role
 * only if provision created them (they carry our owner tag), and the tables only when asked to. Each
 * step reads what exists first, so a second run deletes nothing.
 */
import * as Effect from "effect/Effect"
import * as Deployment from "../Deployment.js"
import type { DynamoDbError } from "../DynamoDb.js"
import type { IamError } from "../Iam.js"
import type { LambdaError } from "../Lambda.js"
import type * as Arn from "./Arn.js"
import { type AwsServices, functionRoleName } from "./AwsSteps.js"
import * as EventSourceMapping from "./EventSourceMapping.js"
import * as LambdaFunction from "./Function.js"
import * as Role from "./Role.js"
import type { Outcome, Step } from "./Step.js"
import { deleteTable } from "./TableSteps.js"

export type AwsTeardownError = DynamoDbError | LambdaError | IamError | Arn.InvalidArn | EventSourceMapping.MappingNotDeleted

/** The Lambda and IAM clients: the same as provisioning's. */
export { layer } from "./AwsSteps.js"

const kept = (name: string) => Effect.succeed<Outcome>({ action: "kept", resource: name, detail: "pass --delete-data to delete it" })

/**
 * Every step of `pnpm teardown --target aws`, in order, for the resources `names` names. The function's
 * role is looked up when each step runs: the function's own while it exists (an adopted one's), ours
 * once it is gone.
 */
export const awsTeardownSteps = (
  names: Deployment.Names,
  options: { readonly deleteData: boolean }
): ReadonlyArray<Step<AwsTeardownError, AwsServices>> => [
  {
    title: `stream mapping ${names.transactions} → ${names.functionName}`,
    run: EventSourceMapping.remove(names.functionName, names.transactions)
  },
  {
    title: `policy ${names.policyName}`,
    run: functionRoleName(names).pipe(Effect.flatMap((roleName) => Role.removePolicy(roleName, names.policyName)))
  },
  { title: `function ${names.functionName}`, run: LambdaFunction.remove(names.functionName) },
  { title: `role of ${names.functionName}`, run: functionRoleName(names).pipe(Effect.flatMap(Role.remove)) },
  ...Deployment.tableNames(names).map((name) => ({
    title: `table ${name}`,
    run: options.deleteData ? deleteTable(name) : kept(name)
  }))
]
