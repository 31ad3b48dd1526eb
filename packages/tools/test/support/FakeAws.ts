/**
 * The pretend AWS that provisioning, teardown and status tests run on: one `FakeAccount`, with the fakes
 * of DynamoDB's control plane, IAM, Lambda, S3, CloudWatch and CloudWatch Logs installed over it. The real SDK v3 clients are used,
 * `send` mocked by aws-sdk-client-mock, so a step sees what earlier steps did; faults are the SDK's own
 * exceptions. Tags are kept and returned as AWS returns them: a function's in GetFunction's `Tags`, a role's in `Role.Tags`.
 */
import * as Layer from "effect/Layer"
import * as FakeAccount from "./FakeAccount.js"
import * as FakeCloudWatch from "./FakeCloudWatch.js"
import * as FakeCloudWatchLogs from "./FakeCloudWatchLogs.js"
import * as FakeDynamoDb from "./FakeDynamoDb.js"
import * as FakeIam from "./FakeIam.js"
import * as FakeLambda from "./FakeLambda.js"
import * as FakeS3 from "./FakeS3.js"

export { ACCOUNT, alarmArn, functionArn, type Invocation, mappingArn, noCredentials, REGION, roleArn, tableArn } from "./FakeAccount.js"
export { type AlarmSeed, cloudWatch } from "./FakeCloudWatch.js"
export { type LogGroupSeed, logs } from "./FakeCloudWatchLogs.js"
export { dynamo, type TableSeed } from "./FakeDynamoDb.js"
export { iam } from "./FakeIam.js"
export { cannotAccessStream, type FunctionSeed, lambda, type MappingSeed, roleCannotBeAssumed } from "./FakeLambda.js"
export { s3 } from "./FakeS3.js"

/** Our services over real SDK clients (mocked in each service's fake), as the AWS target builds them. */
export const services = Layer.mergeAll(
  FakeDynamoDb.service,
  FakeLambda.service,
  FakeIam.service,
  FakeS3.service,
  FakeCloudWatch.service,
  FakeCloudWatchLogs.service
)

export interface Seed {
  readonly tables?: ReadonlyArray<FakeDynamoDb.TableSeed>
  readonly roles?: ReadonlyArray<FakeIam.RoleSeed>
  readonly functions?: ReadonlyArray<FakeLambda.FunctionSeed>
  readonly mappings?: ReadonlyArray<FakeLambda.MappingSeed>
  readonly buckets?: ReadonlyArray<FakeS3.BucketSeed>
  readonly alarms?: ReadonlyArray<FakeCloudWatch.AlarmSeed>
  /** Dashboard bodies (JSON text), by name. */
  readonly dashboards?: Readonly<Record<string, string>>
  readonly logGroups?: ReadonlyArray<FakeCloudWatchLogs.LogGroupSeed>
}

/**
 * Resets the mocks and installs an account holding `seed`. `failNext(command, ...errors)` makes the
 * command's next calls reject with those errors, in order, before it behaves again.
 */
export const account = (seed: Seed = {}): FakeAccount.Account => {
  const fake = FakeAccount.empty()
  FakeS3.reset({ buckets: seed.buckets ?? [] }, fake)
  FakeDynamoDb.seed(fake, seed.tables ?? [])
  FakeIam.seed(fake, seed.roles ?? [])
  FakeLambda.seed(fake, seed.functions ?? [], seed.mappings ?? [])
  FakeCloudWatch.seed(fake, seed.alarms ?? [], seed.dashboards ?? {})
  FakeCloudWatchLogs.seed(fake, seed.logGroups ?? [])
  FakeDynamoDb.install(fake)
  FakeIam.install(fake)
  FakeLambda.install(fake)
  FakeCloudWatch.install(fake)
  FakeCloudWatchLogs.install(fake)
  return fake
}

/** The stream a table has now, if any. */
export const streamOf = (fake: FakeAccount.Account, table: string) => fake.tables.get(table)?.LatestStreamArn

/** The Jam's account: its two tables (CustTransactions keyed CustID+TnValue, a KEYS_ONLY stream), its Python function on it, untagged. */
export const jamAccount = () => {
  const jamRole = FakeAccount.roleArn("service-role/JamLambdaRole")
  const fake = account({
    tables: [
      {
        name: "CustTransactions",
        keySchema: [{ AttributeName: "CustID", KeyType: "HASH" }, { AttributeName: "TnValue", KeyType: "RANGE" }],
        stream: "KEYS_ONLY"
      },
      { name: "CustProfile" }
    ],
    roles: [{ path: "service-role/JamLambdaRole" }],
    functions: [{
      name: "JAM_Lambda_Exec_Function_EDIT_THIS",
      runtime: "python3.12",
      handler: "lambda_function.lambda_handler",
      role: jamRole,
      codeSha256: "cHl0aG9uIGNvZGU=",
      memorySize: 128,
      timeout: 3
    }]
  })
  const keysOnlyStream = streamOf(fake, "CustTransactions") ?? ""
  fake.mappings.set("jam-mapping", {
    UUID: "jam-mapping",
    EventSourceMappingArn: FakeAccount.mappingArn("jam-mapping"),
    EventSourceArn: keysOnlyStream,
    FunctionArn: FakeAccount.functionArn("JAM_Lambda_Exec_Function_EDIT_THIS"),
    BatchSize: 100,
    State: "Enabled",
    polls: 0
  })
  return { account: fake, jamRole, keysOnlyStream }
}
