/**
 * `pnpm teardown --target aws`, in order: the stream mapping, our policy, then the function and its role
 * only if this deployment's provision created them (they carry its owner tag), and the tables only when
 * asked to: ours with `--delete-data`, the ones that were there before only with `--force-delete-data`
 * too, each backed up first when it holds items. The alarms, the dashboard and the function's log group
 * go when provision made them (the alarms and the log group carry its tag, the dashboard its marker).
 * Each step decides from what exists, so a second run deletes nothing.
 */
import * as Effect from "effect/Effect"
import * as Deployment from "@dyna/aws/Deployment"
import type { DynamoDbError } from "@dyna/aws/DynamoDb"
import type { CloudWatchError } from "../clients/CloudWatch.js"
import type { CloudWatchLogsError } from "../clients/CloudWatchLogs.js"
import type { IamError } from "../clients/Iam.js"
import type { LambdaError } from "../clients/Lambda.js"
import type { S3Error } from "../clients/S3.js"
import * as Alarms from "./Alarms.js"
import type * as Arn from "./Arn.js"
import { arns, type AwsServices, functionRoleName, type Target } from "./AwsSteps.js"
import * as Dashboard from "./Dashboard.js"
import * as EventSourceMapping from "./EventSourceMapping.js"
import * as LambdaFunction from "./LambdaFunction.js"
import * as LogRetention from "./LogRetention.js"
import * as OnFailureDestination from "./OnFailureDestination.js"
import * as Role from "./Role.js"
import type { Step } from "./Step.js"
import * as TableSteps from "./TableSteps.js"

export type AwsTeardownError =
  | DynamoDbError
  | LambdaError
  | IamError
  | Arn.InvalidArn
  | EventSourceMapping.MappingNotDeleted
  | TableSteps.BackupNotReady
  | S3Error
  | CloudWatchError
  | CloudWatchLogsError

/** The Lambda and IAM clients: the same as provisioning's. */
export { layer } from "./AwsSteps.js"

/**
 * Every step of `pnpm teardown --target aws`, in order, for one deployment. The function's role is looked
 * up when each step runs: the function's own while it exists (an adopted one's), ours once it is gone.
 */
export const awsTeardownSteps = (
  target: Target,
  options: TableSteps.RemoveOptions
): ReadonlyArray<Step<AwsTeardownError, AwsServices>> => {
  const { names } = target
  const owner = Deployment.ownerTag(names.prefix, target.location.region)
  return [
    {
      title: `stream mapping ${names.transactions} → ${names.functionName}`,
      decide: EventSourceMapping.decideRemove(names.functionName, names.transactions, owner)
    },
    // After the mapping, so Lambda writes no more records into it while it is emptied.
    {
      ...OnFailureDestination.removeStep(arns(target).onFailureBucket, owner, { deleteData: options.deleteData }),
      title: `on-failure bucket ${arns(target).onFailureBucket}`
    },
    {
      title: `policy ${names.policyName}`,
      decide: functionRoleName(names).pipe(Effect.flatMap((roleName) => Role.decideRemovePolicy(roleName, names.policyName)))
    },
    { title: `function ${names.functionName}`, decide: LambdaFunction.decideRemove(names.functionName, owner) },
    { title: `role of ${names.functionName}`, decide: functionRoleName(names).pipe(Effect.flatMap((roleName) => Role.decideRemove(roleName, owner))) },
    ...Deployment.tableNames(names).map((name) => ({
      title: `table ${name}`,
      decide: TableSteps.decideRemoveTable(name, TableSteps.byTag(owner), options, TableSteps.onDemandBackup)
    })),
    // What watched the pipeline; the log group after the function, which would otherwise write into it again.
    LogRetention.removeStep(names.functionName, owner),
    ...Alarms.removeSteps(names.prefix, owner),
    Dashboard.removeStep(names.prefix, owner)
  ]
}
