/**
 * The AWS target's provisioning, in order: the tables and the stream (the same steps as the local
 * target's), the function's role and policy, the function, and the mapping from the stream to it. Each
 * step reads what exists first, so a second run changes nothing.
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Deployment from "../Deployment.js"
import type { DynamoDb, DynamoDbError } from "../DynamoDb.js"
import { Iam, type IamError } from "../Iam.js"
import { Lambda, type LambdaError } from "../Lambda.js"
import * as Arn from "./Arn.js"
import * as Bundle from "./Bundle.js"
import * as EventSourceMapping from "./EventSourceMapping.js"
import * as LambdaFunction from "./Function.js"
import * as Role from "./Role.js"
import type { Outcome, Step } from "./Step.js"
import { describeTable, ensureStream, ensureTable, eventsTable, MissingTable, profilesTable, rejectedTable, transactionsTable } from "./TableSteps.js"

export type AwsStepError =
  | DynamoDbError
  | LambdaError
  | IamError
  | Bundle.BundleError
  | MissingTable
  | Arn.InvalidArn
  | EventSourceMapping.MappingNotEnabled

/** What the steps run on. */
export type AwsServices = DynamoDb | Lambda | Iam

/**
 * The Lambda and IAM clients, from the SDK's default credentials chain in `AWS_REGION`. `DynamoDb`
 * comes from the scripts' own layer, which the AWS target configures without an endpoint.
 */
export const layer = Layer.mergeAll(Lambda.layer, Iam.layer)

/** The transactions table as it is now: its ARN (which says the partition, region and account) and stream. */
const transactions = (name: string) =>
  Effect.gen(function*() {
    const table = yield* describeTable(name)
    if (table?.TableArn === undefined) return yield* new MissingTable({ table: name })
    const arn = yield* Effect.fromResult(Arn.parse(table.TableArn, `the ARN of table ${name}`))
    const stream = table.StreamSpecification?.StreamEnabled === true ? table.LatestStreamArn : undefined
    return { arn: table.TableArn, location: arn, stream }
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

const roleStep = (names: Deployment.Names) =>
  Effect.gen(function*() {
    const adopted = yield* adoptedRole(names)
    if (adopted !== undefined) {
      return { action: "unchanged", resource: adopted, detail: `the role ${names.functionName} runs as` } satisfies Outcome
    }
    const role = yield* Role.ensureRole(names.roleName)
    return { action: role.action, resource: role.arn, detail: "assumable by Lambda only" } satisfies Outcome
  })

const policyStep = (names: Deployment.Names) =>
  Effect.gen(function*() {
    const { location } = yield* transactions(names.transactions)
    const roleName = yield* functionRoleName(names)
    return yield* Role.ensurePolicy(roleName, names.policyName, Role.policyDocument(location, names))
  })

const functionStep = (names: Deployment.Names, artifact: Effect.Effect<Bundle.Artifact, Bundle.BundleError>) =>
  Effect.gen(function*() {
    // Only a function yet to be created needs our role's ARN; the role step has made the role by then.
    const ourRole = Role.ensureRole(names.roleName).pipe(Effect.map((role) => role.arn))
    return yield* LambdaFunction.publish(names, yield* artifact, ourRole)
  })

const mappingStep = (names: Deployment.Names) =>
  Effect.gen(function*() {
    const table = yield* transactions(names.transactions)
    if (table.stream === undefined) return yield* new MissingTable({ table: `${names.transactions} (with a stream)` })
    return yield* EventSourceMapping.ensure(names.functionName, table.arn, table.stream, Deployment.mapping)
  })

/**
 * Every step of `pnpm provision --target aws`, in order, for the resources `names` names. `artifact`
 * is the function's bundle, built by esbuild when the function step runs (tests build it once).
 */
export const awsSteps = (
  names: Deployment.Names,
  artifact: Effect.Effect<Bundle.Artifact, Bundle.BundleError> = Bundle.make
): ReadonlyArray<Step<AwsStepError, AwsServices>> => [
  { title: `table ${names.transactions}`, run: ensureTable(transactionsTable(names.transactions)) },
  { title: `stream on ${names.transactions}`, run: ensureStream(names.transactions) },
  { title: `table ${names.profiles}`, run: ensureTable(profilesTable(names.profiles)) },
  { title: `table ${names.rejected} (quarantine)`, run: ensureTable(rejectedTable(names.rejected)) },
  { title: `table ${names.events} (EliteQualified events)`, run: ensureTable(eventsTable(names.events)) },
  { title: `role of ${names.functionName}`, run: roleStep(names) },
  { title: `policy ${names.policyName}`, run: policyStep(names) },
  { title: `function ${names.functionName} (bundled)`, run: functionStep(names, artifact) },
  { title: `stream mapping ${names.transactions} → ${names.functionName}`, run: mappingStep(names) }
]
