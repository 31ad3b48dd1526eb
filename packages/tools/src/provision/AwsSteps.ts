/**
 * The AWS target's provisioning, in order: the tables and the stream (the same steps as the local
 * target's), the function's role and policy, the function, the mapping from the stream to it, then what
 * lets operators watch it: the function's log retention, the alarms and the dashboard. Each
 * step decides from what exists first, so a second run changes nothing, and `--plan` changes nothing at all.
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Deployment from "@dyna/aws/Deployment"
import type { DynamoDb, DynamoDbError } from "@dyna/aws/DynamoDb"
import { CloudWatch, type CloudWatchError } from "../clients/CloudWatch.js"
import { CloudWatchLogs, type CloudWatchLogsError } from "../clients/CloudWatchLogs.js"
import { Iam, type IamError } from "../clients/Iam.js"
import { Lambda, type LambdaError } from "../clients/Lambda.js"
import { S3, type S3Error } from "../clients/S3.js"
import * as Alarms from "./Alarms.js"
import * as Arn from "./Arn.js"
import * as Bundle from "./Bundle.js"
import * as Dashboard from "./Dashboard.js"
import * as EventSourceMapping from "./EventSourceMapping.js"
import * as LambdaFunction from "./LambdaFunction.js"
import * as LogRetention from "./LogRetention.js"
import * as OnFailureDestination from "./OnFailureDestination.js"
import * as Role from "./Role.js"
import { applied, change, type Step } from "./Step.js"
import { describeTable } from "@dyna/aws/TableDescription"
import * as TableSteps from "./TableSteps.js"
import * as TimeToLive from "./TimeToLive.js"

export type AwsStepError =
  | DynamoDbError
  | LambdaError
  | IamError
  | Bundle.BundleError
  | Arn.InvalidArn
  | Role.RoleNotOurs
  | EventSourceMapping.MappingNotEnabled
  | S3Error
  | OnFailureDestination.BucketNotOurs
  | CloudWatchError
  | CloudWatchLogsError

/** What the steps run on. */
export type AwsServices = DynamoDb | Lambda | Iam | S3 | CloudWatch | CloudWatchLogs

/**
 * The Lambda and IAM clients, from the SDK's default credentials chain in the command's region.
 * `DynamoDb` comes from the scripts' own layer, which the AWS target configures without an endpoint.
 */
export const layer = Layer.mergeAll(Lambda.layer, Iam.layer, S3.layer, CloudWatch.layer, CloudWatchLogs.layer)

/** One deployment on AWS: its names, and the account and region it lives in (from STS, before anything exists). */
export interface Target {
  readonly names: Deployment.Names
  readonly location: Deployment.Location
  /** Settings of the function's environment (`--quarantine-days`); the defaults when absent. */
  readonly function?: Deployment.FunctionOptions
  /** The alarms' thresholds and topic, the log retention (`--alarm-threshold`, `--alarm-topic`, `--log-retention-days`); the defaults when absent. */
  readonly monitoring?: Monitoring
  /** The mapping's `ParallelizationFactor` (`--parallelization`); `Deployment.mappingSettings`' when absent. */
  readonly parallelizationFactor?: number | undefined
}

/** How operators are told about the pipeline: the alarms' thresholds and where they go, and how long the function's logs are kept. */
export interface Monitoring {
  readonly thresholds: Alarms.Thresholds
  /** An SNS topic's ARN the alarms notify; none by default (they show in the console). */
  readonly topic?: string | undefined
  readonly logRetentionDays: number
}

/** What provision sets up when no flag says otherwise. */
export const defaultMonitoring: Monitoring = { thresholds: Alarms.defaultThresholds, logRetentionDays: LogRetention.DEFAULT_RETENTION_DAYS }

/** The ARNs a deployment's resources have, or will have once created. */
export const arns = ({ names, location: at }: Target) => ({
  table: (name: string) => `arn:${at.partition}:dynamodb:${at.region}:${at.account}:table/${name}`,
  ourRole: `arn:${at.partition}:iam::${at.account}:role/${names.roleName}`,
  /** Where the mapping sends the batches Lambda gives up on. */
  onFailureBucket: Deployment.onFailureBucketName(names.prefix, at)
})

/** The role an existing function runs as (an adopted function keeps its own), or `undefined` before there is one. */
const adoptedRole = (names: Deployment.Names) =>
  LambdaFunction.describe(names.functionName).pipe(Effect.map((configuration) => configuration?.Role))

/** The name of the role the function runs as; our role's while there is no function. */
export const functionRoleName = (names: Deployment.Names) =>
  Effect.gen(function*() {
    const adopted = yield* adoptedRole(names)
    return adopted === undefined
      ? names.roleName
      : Arn.resourceName(yield* Effect.fromResult(Arn.parse(adopted, `the role ARN of ${names.functionName}`)))
  })

const roleStep = (target: Target, owner: Deployment.OwnerTag) =>
  Effect.gen(function*() {
    const adopted = yield* adoptedRole(target.names)
    if (adopted !== undefined) {
      return { action: "unchanged", resource: adopted, detail: `the role ${target.names.functionName} runs as` } as const
    }
    return yield* Role.decideRole(target.names.roleName, owner, arns(target).ourRole)
  })

const policyStep = (target: Target) =>
  Effect.gen(function*() {
    const roleName = yield* functionRoleName(target.names)
    return yield* Role.decidePolicy(roleName, target.names.policyName, Role.policyDocument(target.location, target.names))
  })

const mappingStep = (target: Target, owner: Deployment.OwnerTag) =>
  Effect.gen(function*() {
    const { names } = target
    const table = yield* describeTable(names.transactions)
    // A stream without new images is replaced by the stream step: the mapping will be on its successor.
    const spec = table?.StreamSpecification
    const stream = spec?.StreamEnabled === true && TableSteps.carriesNewImage(spec.StreamViewType) ? table?.LatestStreamArn : undefined
    const destination = OnFailureDestination.bucketArn(arns(target).onFailureBucket, target.location.partition)
    return yield* EventSourceMapping.decide(
      names.functionName,
      arns(target).table(names.transactions),
      stream,
      { ...Deployment.mappingSettings, parallelizationFactor: target.parallelizationFactor ?? Deployment.mappingSettings.parallelizationFactor },
      owner,
      destination
    )
  })

/**
 * The UUID of the mapping from the table's current stream to the function (the alarms and the dashboard
 * watch its metrics), or `undefined` while there is none (a plan before the mapping step made it).
 */
export const mappingUuid = (names: Deployment.Names) =>
  Effect.gen(function*() {
    const stream = (yield* describeTable(names.transactions))?.LatestStreamArn
    if (stream === undefined) return undefined
    const mappings = yield* EventSourceMapping.list(names.functionName).pipe(
      Effect.catchTag("LambdaError", (e) => (e.kind === "NotFound" ? Effect.succeed([]) : Effect.fail(e)))
    )
    return mappings.find((m) => m.EventSourceArn === stream)?.UUID
  })

/**
 * TTL on a table's `ExpiresAt`: quarantined records (30 days) and a hot customer's applied-log pages in
 * CustEliteEvents (a day; events themselves carry no `ExpiresAt` and stay). Before the table exists (a
 * plan), it will be set once it does.
 */
const expiry = (table: string) =>
  TimeToLive.decide(table).pipe(
    Effect.catchIf(
      (e): boolean => e.kind === "NotFound",
      () => Effect.succeed(change({ action: "created", resource: table, detail: "TTL on ExpiresAt, once the table exists" }, applied(TimeToLive.decide(table))))
    )
  )

/**
 * Every step of `pnpm provision --target aws`, in order, for one deployment. `artifact` is the
 * function's bundle, built by esbuild once, when the function step first decides (tests build it once).
 */
export const awsSteps = (
  target: Target,
  artifact: Effect.Effect<Bundle.Artifact, Bundle.BundleError> = Bundle.make
): Effect.Effect<ReadonlyArray<Step<AwsStepError, AwsServices>>> =>
  Effect.gen(function*() {
    const { names } = target
    const owner = Deployment.ownerTag(names.prefix, target.location.region)
    const tables = TableSteps.byTag(owner)
    const bundle = yield* Effect.cached(artifact)
    const monitoring = target.monitoring ?? defaultMonitoring
    const uuid = mappingUuid(names)
    return [
      { title: `table ${names.transactions}`, decide: TableSteps.decideTable(TableSteps.transactionsTable(names.transactions), tables) },
      { title: `stream on ${names.transactions}`, decide: TableSteps.decideStream(names.transactions, tables) },
      { title: `table ${names.profiles}`, decide: TableSteps.decideTable(TableSteps.profilesTable(names.profiles), tables) },
      { title: `table ${names.rejected} (quarantine)`, decide: TableSteps.decideTable(TableSteps.rejectedTable(names.rejected), tables) },
      { title: `table ${names.events} (EliteQualified events)`, decide: TableSteps.decideTable(TableSteps.eventsTable(names.events), tables) },
      { title: `expiry of quarantined records in ${names.rejected}`, decide: expiry(names.rejected) },
      { title: `expiry of applied-log pages in ${names.events}`, decide: expiry(names.events) },
      { ...OnFailureDestination.ensureStep(arns(target).onFailureBucket, owner), title: `on-failure bucket ${arns(target).onFailureBucket}` },
      { title: `role of ${names.functionName}`, decide: roleStep(target, owner) },
      { title: `policy ${names.policyName}`, decide: policyStep(target) },
      {
        title: `function ${names.functionName} (bundled)`,
        decide: LambdaFunction.decidePublish(names, bundle, arns(target).ourRole, owner, target.function)
      },
      { title: `stream mapping ${names.transactions} → ${names.functionName}`, decide: mappingStep(target, owner) },
      LogRetention.step(names.functionName, owner, monitoring.logRetentionDays),
      ...Alarms.steps({ prefix: names.prefix, functionName: names.functionName, owner, thresholds: monitoring.thresholds, topic: monitoring.topic }, uuid),
      Dashboard.step({
        prefix: names.prefix,
        functionName: names.functionName,
        owner,
        location: target.location,
        iteratorAgeSeconds: monitoring.thresholds.iteratorAgeSeconds
      }, uuid)
    ]
  })
