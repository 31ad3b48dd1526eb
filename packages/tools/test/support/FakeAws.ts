/**
 * A pretend AWS account: the real SDK v3 clients, `send` mocked by aws-sdk-client-mock over a small model
 * of the control plane, so a step sees what earlier steps did. Faults are the SDK's own exceptions.
 * Tags are kept and returned as AWS returns them: a function's in GetFunction's `Tags`, a role's in `Role.Tags`.
 */
import {
  CreateBackupCommand,
  type CreateBackupCommandInput,
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeBackupCommand,
  type DescribeBackupCommandInput,
  DeleteTableCommand,
  type DeleteTableCommandInput,
  DescribeTableCommand,
  type DescribeTableCommandInput,
  DescribeTimeToLiveCommand,
  type DescribeTimeToLiveCommandInput,
  DynamoDBClient,
  DynamoDBServiceException,
  type KeySchemaElement,
  ListTagsOfResourceCommand,
  type ListTagsOfResourceCommandInput,
  ResourceNotFoundException as TableNotFound,
  ScanCommand,
  type ScanCommandInput,
  type StreamViewType,
  type TableDescription,
  UpdateTableCommand,
  type UpdateTableCommandInput,
  UpdateTimeToLiveCommand,
  type UpdateTimeToLiveCommandInput
} from "@aws-sdk/client-dynamodb"
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
import {
  CreateEventSourceMappingCommand,
  type CreateEventSourceMappingCommandInput,
  CreateFunctionCommand,
  type CreateFunctionCommandInput,
  DeleteEventSourceMappingCommand,
  type DeleteEventSourceMappingCommandInput,
  DeleteFunctionCommand,
  type DeleteFunctionCommandInput,
  type EventSourceMappingConfiguration,
  type FunctionConfiguration,
  GetEventSourceMappingCommand,
  type GetEventSourceMappingCommandInput,
  GetFunctionCommand,
  type GetFunctionCommandInput,
  InvalidParameterValueException,
  InvokeCommand,
  type InvokeCommandInput,
  type InvokeCommandOutput,
  LambdaClient,
  ListEventSourceMappingsCommand,
  type ListEventSourceMappingsCommandInput,
  ListTagsCommand,
  type ListTagsCommandInput,
  ListVersionsByFunctionCommand,
  type ListVersionsByFunctionCommandInput,
  PublishVersionCommand,
  type PublishVersionCommandInput,
  ResourceConflictException,
  ResourceNotFoundException as LambdaNotFound,
  type Runtime,
  UpdateEventSourceMappingCommand,
  type UpdateEventSourceMappingCommandInput,
  UpdateFunctionCodeCommand,
  type UpdateFunctionCodeCommandInput,
  UpdateFunctionConfigurationCommand,
  type UpdateFunctionConfigurationCommandInput
} from "@aws-sdk/client-lambda"
import { mockClient } from "aws-sdk-client-mock"
import * as Layer from "effect/Layer"
import { createHash } from "node:crypto"
import { DynamoDb } from "@dyna/aws/DynamoDb"
import { Iam } from "../../src/clients/Iam.js"
import { Lambda } from "../../src/clients/Lambda.js"
import * as FakeS3 from "./FakeS3.js"

export const REGION = "eu-west-1"
export const ACCOUNT = "123456789012"
export const tableArn = (name: string) => `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${name}`
export const roleArn = (path: string) => `arn:aws:iam::${ACCOUNT}:role/${path}`
export const functionArn = (name: string) => `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}`
export const mappingArn = (uuid: string) => `arn:aws:lambda:${REGION}:${ACCOUNT}:event-source-mapping:${uuid}`

// Mocked once per test file, on the client classes: any client built anywhere is mocked, none reaches AWS.
export const dynamo = mockClient(DynamoDBClient)
export const lambda = mockClient(LambdaClient)
export const iam = mockClient(IAMClient)

const credentials = { accessKeyId: "AKIAFAKEFAKEFAKE", secretAccessKey: "fake" }

/** Our services over real SDK clients (mocked above), as the AWS target builds them. */
export const services = Layer.mergeAll(
  Layer.succeed(DynamoDb, DynamoDb.fromClient(new DynamoDBClient({ region: REGION, credentials }), `https://dynamodb.${REGION}.amazonaws.com`)),
  Layer.succeed(Lambda, Lambda.fromClient(new LambdaClient({ region: REGION, credentials }))),
  Layer.succeed(Iam, Iam.fromClient(new IAMClient({ region: REGION, credentials }))),
  FakeS3.service
)

/** The S3 part of the account (the on-failure bucket), modelled in its own file. */
export const s3 = FakeS3.s3

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("base64")

const meta = { $metadata: { httpStatusCode: 400 } }
export const roleCannotBeAssumed = () =>
  new InvalidParameterValueException({ message: "The role defined for the function cannot be assumed by Lambda.", ...meta })
export const cannotAccessStream = (streamArn: string) =>
  new InvalidParameterValueException({
    message: `Cannot access stream ${streamArn}. Please ensure the role can perform the GetRecords, GetShardIterator, DescribeStream, and ListStreams Actions on your stream in IAM.`,
    ...meta
  })
/** What the SDK's default chain throws when it finds no credentials anywhere. */
export const noCredentials = () =>
  Object.assign(new Error("Could not load credentials from any providers"), { name: "CredentialsProviderError" })

export interface TableSeed {
  readonly name: string
  readonly tags?: Record<string, string>
  /** How many items it holds (only whether it holds any is modelled). */
  readonly items?: number
  readonly keySchema?: ReadonlyArray<KeySchemaElement>
  readonly stream?: StreamViewType
}

export interface FunctionSeed {
  readonly name: string
  readonly tags?: Record<string, string>
  readonly runtime: Runtime
  readonly handler: string
  readonly role: string
  readonly codeSha256: string
  readonly memorySize: number
  readonly timeout: number
  readonly environment?: Record<string, string>
}

export interface MappingSeed {
  readonly tags?: Record<string, string>
  readonly functionName: string
  readonly eventSourceArn: string
  readonly batchSize: number
  readonly state?: string
}

export interface Seed {
  readonly tables?: ReadonlyArray<TableSeed>
  readonly roles?: ReadonlyArray<{ readonly path: string; readonly tags?: ReadonlyArray<Tag>; readonly trust?: string }>
  readonly functions?: ReadonlyArray<FunctionSeed>
  readonly mappings?: ReadonlyArray<MappingSeed>
  readonly buckets?: ReadonlyArray<FakeS3.BucketSeed>
}

/** The Jam's and our key schema for CustTransactions differ; any is adopted as it is. */
const defaultKeys: ReadonlyArray<KeySchemaElement> = [{ AttributeName: "CustID", KeyType: "HASH" }]

/** What an invocation of a function answers: its result, or with `functionError` what it threw. */
export interface Invocation {
  readonly payload: unknown
  readonly functionError?: string
}

/** A payload as the SDK hands it over: bytes that can also say themselves as a string. */
const blob = (text: string): NonNullable<InvokeCommandOutput["Payload"]> => {
  const bytes = new TextEncoder().encode(text)
  return Object.assign(bytes, { transformToString: (encoding?: string) => new TextDecoder(encoding).decode(bytes) })
}

/** Pages of two: enough to make any caller that reads only the first page miss something. */
const PAGE_SIZE = 2

/**
 * Resets the mocks and installs an account holding `seed`. `failNext(command, ...errors)` makes the
 * command's next calls reject with those errors, in order, before it behaves again.
 */
export const account = (seed: Seed = {}) => {
  for (const mock of [dynamo, lambda, iam]) mock.reset()
  FakeS3.reset({ buckets: seed.buckets ?? [] })
  let streams = 0
  const newStreamArn = (table: string) => `${tableArn(table)}/stream/2026-01-01T00:00:00.${String(++streams).padStart(3, "0")}`

  const tables = new Map<string, TableDescription>()
  const tableTags = new Map<string, Record<string, string>>()
  const timeToLive = new Map<string, string>()
  const itemCounts = new Map<string, number>()
  const backups = new Map<string, { table: string; polls: number }>()
  const versions = new Map<string, Array<{ Version: string; Description: string; CodeSha256: string }>>()
  const mappingTags = new Map<string, Record<string, string>>()
  const roles = new Map<string, { arn: string; trust: string; tags: ReadonlyArray<Tag> }>()
  const policies = new Map<string, string>()
  const functions = new Map<string, FunctionConfiguration>()
  const functionTags = new Map<string, Record<string, string>>()
  const mappings = new Map<string, EventSourceMappingConfiguration & { polls: number }>()
  // A deleted mapping leaves the list at once but is Deleting for one GetEventSourceMapping before it is gone.
  const deleting = new Map<string, EventSourceMappingConfiguration & { polls: number }>()
  let invocation: Invocation = { payload: null }
  const faults = new Map<string, Array<Error>>()
  const always = new Map<string, () => Error>()

  const injected = (command: string) => {
    const error = always.get(command)?.() ?? faults.get(command)?.shift()
    if (error !== undefined) throw error
  }

  for (const t of seed.tables ?? []) {
    const stream = t.stream === undefined ? {} : {
      StreamSpecification: { StreamEnabled: true, StreamViewType: t.stream },
      LatestStreamArn: newStreamArn(t.name)
    }
    tables.set(t.name, { TableName: t.name, TableArn: tableArn(t.name), TableStatus: "ACTIVE", KeySchema: [...(t.keySchema ?? defaultKeys)], ...stream })
    if (t.tags !== undefined) tableTags.set(tableArn(t.name), t.tags)
    if (t.items !== undefined) itemCounts.set(t.name, t.items)
  }
  for (const r of seed.roles ?? []) {
    const name = r.path.split("/").at(-1) ?? r.path
    roles.set(name, { arn: roleArn(r.path), trust: r.trust ?? "{}", tags: r.tags ?? [] })
  }
  for (const f of seed.functions ?? []) {
    if (f.tags !== undefined) functionTags.set(f.name, f.tags)
    functions.set(f.name, {
      FunctionName: f.name,
      FunctionArn: functionArn(f.name),
      Runtime: f.runtime,
      Handler: f.handler,
      Role: f.role,
      CodeSha256: f.codeSha256,
      MemorySize: f.memorySize,
      Timeout: f.timeout,
      ...(f.environment === undefined ? {} : { Environment: { Variables: f.environment } }),
      State: "Active",
      LastUpdateStatus: "Successful"
    })
  }
  for (const [i, m] of (seed.mappings ?? []).entries()) {
    const uuid = `seeded-${i}`
    mappings.set(uuid, {
      UUID: uuid,
      EventSourceArn: m.eventSourceArn,
      FunctionArn: functionArn(m.functionName),
      BatchSize: m.batchSize,
      EventSourceMappingArn: mappingArn(uuid),
      State: m.state ?? "Enabled",
      polls: 0
    })
    if (m.tags !== undefined) mappingTags.set(mappingArn(uuid), m.tags)
  }

  const tableOrFail = (name: string | undefined) => {
    const table = name === undefined ? undefined : tables.get(name)
    if (table === undefined) throw new TableNotFound({ message: `Requested resource not found: Table: ${name} not found`, ...meta })
    return table
  }
  const functionOrFail = (name: string | undefined) => {
    const found = name === undefined ? undefined : functions.get(name.split(":").at(-1) ?? name)
    if (found === undefined) throw new LambdaNotFound({ message: `Function not found: ${name}`, ...meta })
    return found
  }
  const mappingOrFail = (uuid: string | undefined) => {
    const found = uuid === undefined ? undefined : mappings.get(uuid)
    if (found === undefined) throw new LambdaNotFound({ message: `The resource you requested does not exist. (UUID ${uuid})`, ...meta })
    return found
  }
  const view = ({ polls: _, ...m }: EventSourceMappingConfiguration & { polls: number }): EventSourceMappingConfiguration => m

  // DynamoDB control plane: tables come up ACTIVE at once; each enabled stream gets a new ARN.
  dynamo.onAnyCommand().rejects(new Error("the fake account does not model this DynamoDB command"))
  dynamo.on(DescribeTableCommand).callsFake(async (input: DescribeTableCommandInput) => {
    injected("DescribeTable")
    return { Table: tableOrFail(input.TableName) }
  })
  dynamo.on(ListTagsOfResourceCommand).callsFake(async (input: ListTagsOfResourceCommandInput) => {
    injected("ListTagsOfResource")
    if (![...tables.values()].some((t) => t.TableArn === input.ResourceArn)) {
      throw new TableNotFound({ message: `Requested resource not found: ${input.ResourceArn}`, ...meta })
    }
    return { Tags: Object.entries(tableTags.get(input.ResourceArn ?? "") ?? {}).map(([Key, Value]) => ({ Key, Value })) }
  })
  dynamo.on(DescribeTimeToLiveCommand).callsFake(async (input: DescribeTimeToLiveCommandInput) => {
    injected("DescribeTimeToLive")
    const table = tableOrFail(input.TableName)
    const attribute = timeToLive.get(table.TableName ?? "")
    return { TimeToLiveDescription: attribute === undefined ? { TimeToLiveStatus: "DISABLED" } : { TimeToLiveStatus: "ENABLED", AttributeName: attribute } }
  })
  dynamo.on(UpdateTimeToLiveCommand).callsFake(async (input: UpdateTimeToLiveCommandInput) => {
    injected("UpdateTimeToLive")
    const table = tableOrFail(input.TableName)
    if (input.TimeToLiveSpecification?.Enabled === true) timeToLive.set(table.TableName ?? "", input.TimeToLiveSpecification.AttributeName ?? "")
    else timeToLive.delete(table.TableName ?? "")
    return { TimeToLiveSpecification: input.TimeToLiveSpecification }
  })
  dynamo.on(ScanCommand).callsFake(async (input: ScanCommandInput) => {
    injected("Scan")
    const table = tableOrFail(input.TableName)
    const count = Math.min(itemCounts.get(table.TableName ?? "") ?? 0, input.Limit ?? Number.MAX_SAFE_INTEGER)
    return { Count: count, ScannedCount: count, ...(input.Select === "COUNT" ? {} : { Items: [] }) }
  })
  dynamo.on(CreateBackupCommand).callsFake(async (input: CreateBackupCommandInput) => {
    injected("CreateBackup")
    const table = tableOrFail(input.TableName)
    const arn = `${table.TableArn}/backup/0000000000000-${String(backups.size).padStart(8, "0")}`
    backups.set(arn, { table: table.TableName ?? "", polls: 1 })
    return { BackupDetails: { BackupArn: arn, BackupName: input.BackupName, BackupStatus: "CREATING", BackupCreationDateTime: new Date(0) } }
  })
  dynamo.on(DescribeBackupCommand).callsFake(async (input: DescribeBackupCommandInput) => {
    injected("DescribeBackup")
    const backup = backups.get(input.BackupArn ?? "")
    if (backup === undefined) throw new DynamoDBServiceException({ name: "BackupNotFoundException", $fault: "client", message: "Backup not found", ...meta })
    const status = backup.polls > 0 ? "CREATING" : "AVAILABLE"
    backups.set(input.BackupArn ?? "", { ...backup, polls: backup.polls - 1 })
    return { BackupDescription: { BackupDetails: { BackupArn: input.BackupArn, BackupName: "b", BackupStatus: status, BackupCreationDateTime: new Date(0) } } }
  })
  dynamo.on(DeleteTableCommand).callsFake(async (input: DeleteTableCommandInput) => {
    injected("DeleteTable")
    const table = tableOrFail(input.TableName)
    if ([...backups.values()].some((b) => b.table === table.TableName && b.polls >= 0)) {
      throw new DynamoDBServiceException({ name: "ResourceInUseException", $fault: "client", message: "Table is being backed up", ...meta })
    }
    tables.delete(table.TableName ?? "")
    tableTags.delete(table.TableArn ?? "")
    return { TableDescription: { ...table, TableStatus: "DELETING" } }
  })
  dynamo.on(CreateTableCommand).callsFake(async (input: CreateTableCommandInput) => {
    injected("CreateTable")
    const name = input.TableName ?? ""
    const table: TableDescription = { TableName: name, TableArn: tableArn(name), TableStatus: "ACTIVE", KeySchema: input.KeySchema ?? [] }
    tables.set(name, table)
    if (input.Tags !== undefined) tableTags.set(tableArn(name), Object.fromEntries(input.Tags.map((t) => [t.Key ?? "", t.Value ?? ""])))
    return { TableDescription: table }
  })
  dynamo.on(UpdateTableCommand).callsFake(async (input: UpdateTableCommandInput) => {
    injected("UpdateTable")
    const table = tableOrFail(input.TableName)
    const spec = input.StreamSpecification
    if (spec?.StreamEnabled === true && table.StreamSpecification?.StreamEnabled === true) {
      throw new DynamoDBServiceException({ name: "ValidationException", $fault: "client", message: "Table already has an enabled stream", ...meta })
    }
    const next: TableDescription = spec?.StreamEnabled === true
      ? { ...table, StreamSpecification: { ...spec }, LatestStreamArn: newStreamArn(table.TableName ?? "") }
      : { ...table, StreamSpecification: { StreamEnabled: false } }
    tables.set(table.TableName ?? "", next)
    return { TableDescription: next }
  })

  // IAM: roles and their inline policies, documents returned URL-encoded as IAM does.
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

  // Lambda: functions are Active and updates Successful at once; a mapping is Creating or Updating for one poll.
  lambda.onAnyCommand().rejects(new Error("the fake account does not model this Lambda command"))
  lambda.on(GetFunctionCommand).callsFake(async (input: GetFunctionCommandInput) => {
    injected("GetFunction")
    const configuration = functionOrFail(input.FunctionName)
    const tags = functionTags.get(configuration.FunctionName ?? "")
    return { Configuration: configuration, ...(tags === undefined ? {} : { Tags: tags }) }
  })
  lambda.on(PublishVersionCommand).callsFake(async (input: PublishVersionCommandInput) => {
    injected("PublishVersion")
    const fn = functionOrFail(input.FunctionName)
    const name = fn.FunctionName ?? ""
    const list = versions.get(name) ?? []
    const version = { Version: String(list.length + 1), Description: input.Description ?? "", CodeSha256: fn.CodeSha256 ?? "" }
    versions.set(name, [...list, version])
    return { ...fn, ...version, FunctionArn: `${fn.FunctionArn}:${version.Version}` }
  })
  lambda.on(ListVersionsByFunctionCommand).callsFake(async (input: ListVersionsByFunctionCommandInput) => {
    injected("ListVersionsByFunction")
    const fn = functionOrFail(input.FunctionName)
    return { Versions: [{ ...fn, Version: "$LATEST" }, ...(versions.get(fn.FunctionName ?? "") ?? []).map((v) => ({ ...fn, ...v }))] }
  })
  lambda.on(ListTagsCommand).callsFake(async (input: ListTagsCommandInput) => {
    injected("ListTags")
    const arn = input.Resource ?? ""
    if (arn.includes(":event-source-mapping:")) return { Tags: mappingTags.get(arn) ?? {} }
    return { Tags: functionTags.get(functionOrFail(arn).FunctionName ?? "") ?? {} }
  })
  lambda.on(DeleteFunctionCommand).callsFake(async (input: DeleteFunctionCommandInput) => {
    injected("DeleteFunction")
    const name = functionOrFail(input.FunctionName).FunctionName ?? ""
    functions.delete(name)
    functionTags.delete(name)
    return {}
  })
  lambda.on(InvokeCommand).callsFake(async (input: InvokeCommandInput) => {
    injected("Invoke")
    functionOrFail(input.FunctionName)
    const { payload, functionError } = invocation
    return {
      StatusCode: 200,
      ExecutedVersion: "$LATEST",
      Payload: blob(JSON.stringify(payload)),
      ...(functionError === undefined ? {} : { FunctionError: functionError })
    }
  })
  lambda.on(CreateFunctionCommand).callsFake(async (input: CreateFunctionCommandInput) => {
    injected("CreateFunction")
    const name = input.FunctionName ?? ""
    if (![...roles.values()].some((r) => r.arn === input.Role)) throw roleCannotBeAssumed()
    const configuration: FunctionConfiguration = {
      FunctionName: name,
      FunctionArn: functionArn(name),
      Runtime: input.Runtime,
      Handler: input.Handler,
      Role: input.Role,
      CodeSha256: sha256(input.Code?.ZipFile ?? new Uint8Array()),
      MemorySize: input.MemorySize,
      Timeout: input.Timeout,
      ...(input.Environment === undefined ? {} : { Environment: { Variables: input.Environment.Variables ?? {} } }),
      State: "Active",
      LastUpdateStatus: "Successful"
    }
    functions.set(name, configuration)
    if (input.Tags !== undefined) functionTags.set(name, input.Tags)
    return configuration
  })
  lambda.on(UpdateFunctionCodeCommand).callsFake(async (input: UpdateFunctionCodeCommandInput) => {
    injected("UpdateFunctionCode")
    const current = functionOrFail(input.FunctionName)
    const next = { ...current, CodeSha256: sha256(input.ZipFile ?? new Uint8Array()) }
    functions.set(current.FunctionName ?? "", next)
    return next
  })
  lambda.on(UpdateFunctionConfigurationCommand).callsFake(async (input: UpdateFunctionConfigurationCommandInput) => {
    injected("UpdateFunctionConfiguration")
    const current = functionOrFail(input.FunctionName)
    const next: FunctionConfiguration = {
      ...current,
      Runtime: input.Runtime ?? current.Runtime,
      Handler: input.Handler ?? current.Handler,
      MemorySize: input.MemorySize ?? current.MemorySize,
      Timeout: input.Timeout ?? current.Timeout,
      ...(input.Environment === undefined ? {} : { Environment: { Variables: input.Environment.Variables ?? {} } })
    }
    functions.set(current.FunctionName ?? "", next)
    return next
  })
  lambda.on(ListEventSourceMappingsCommand).callsFake(async (input: ListEventSourceMappingsCommandInput) => {
    injected("ListEventSourceMappings")
    const arn = functionOrFail(input.FunctionName).FunctionArn
    const all = [...mappings.values()].filter((m) => m.FunctionArn === arn).map(view)
    const start = Number(input.Marker ?? "0")
    const more = start + PAGE_SIZE < all.length
    return { EventSourceMappings: all.slice(start, start + PAGE_SIZE), ...(more ? { NextMarker: String(start + PAGE_SIZE) } : {}) }
  })
  lambda.on(CreateEventSourceMappingCommand).callsFake(async (input: CreateEventSourceMappingCommandInput) => {
    injected("CreateEventSourceMapping")
    const fn = functionOrFail(input.FunctionName)
    const table = [...tables.values()].find((t) => t.LatestStreamArn === input.EventSourceArn)
    if (table?.StreamSpecification?.StreamEnabled !== true) {
      throw new InvalidParameterValueException({ message: `Stream not found: ${input.EventSourceArn}`, ...meta })
    }
    if ([...mappings.values()].some((m) => m.FunctionArn === fn.FunctionArn && m.EventSourceArn === input.EventSourceArn)) {
      throw new ResourceConflictException({ message: "An event source mapping with this stream and function already exists.", ...meta })
    }
    const uuid = `created-${mappings.size}`
    const { Enabled: _, Tags: tags, ...settings } = input
    if (tags !== undefined) mappingTags.set(mappingArn(uuid), tags)
    const mapping = {
      ...settings,
      UUID: uuid,
      FunctionArn: fn.FunctionArn,
      EventSourceMappingArn: mappingArn(uuid),
      State: "Creating",
      polls: 1
    }
    mappings.set(uuid, mapping)
    return view(mapping)
  })
  lambda.on(UpdateEventSourceMappingCommand).callsFake(async (input: UpdateEventSourceMappingCommandInput) => {
    injected("UpdateEventSourceMapping")
    const current = mappingOrFail(input.UUID)
    const { UUID: _, FunctionName: __, Enabled: ___, ...settings } = input
    const next = { ...current, ...settings, State: "Updating", polls: 1 }
    mappings.set(current.UUID ?? "", next)
    return view(next)
  })
  lambda.on(GetEventSourceMappingCommand).callsFake(async (input: GetEventSourceMappingCommandInput) => {
    injected("GetEventSourceMapping")
    const leaving = deleting.get(input.UUID ?? "")
    if (leaving !== undefined) {
      if (leaving.polls > 0) {
        deleting.set(input.UUID ?? "", { ...leaving, polls: leaving.polls - 1 })
        return view(leaving)
      }
      deleting.delete(input.UUID ?? "")
    }
    const current = mappingOrFail(input.UUID)
    const uuid = current.UUID ?? ""
    if (current.polls > 0) {
      mappings.set(uuid, { ...current, polls: current.polls - 1 })
      return view(current)
    }
    const settled = current.State === "Creating" || current.State === "Updating" ? { ...current, State: "Enabled" } : current
    mappings.set(uuid, settled)
    return view(settled)
  })
  lambda.on(DeleteEventSourceMappingCommand).callsFake(async (input: DeleteEventSourceMappingCommandInput) => {
    injected("DeleteEventSourceMapping")
    const current = mappingOrFail(input.UUID)
    const leaving = { ...current, State: "Deleting", polls: 1 }
    mappings.delete(current.UUID ?? "")
    deleting.set(current.UUID ?? "", leaving)
    return view(leaving)
  })

  return {
    tables,
    tableTags,
    timeToLive,
    itemCounts,
    backups,
    versions,
    mappingTags,
    roles,
    policies,
    functions,
    functionTags,
    mappings,
    /** What every later Invoke answers (by default `null`, as a handler that returns nothing). */
    answer: (next: Invocation) => {
      invocation = next
    },
    /** The command's next calls reject with these errors, in order. */
    failNext: (command: string, ...errors: ReadonlyArray<Error>) => {
      faults.set(command, [...(faults.get(command) ?? []), ...errors])
    },
    /** Every later call of the command rejects with what `error` makes. */
    failAlways: (command: string, error: () => Error) => {
      always.set(command, error)
    }
  }
}

/** The stream a table has now, if any. */
export const streamOf = (fake: ReturnType<typeof account>, table: string) => fake.tables.get(table)?.LatestStreamArn

/** The Jam's account: its two tables (CustTransactions keyed CustID+TnValue, a KEYS_ONLY stream), its Python function on it, untagged. */
export const jamAccount = () => {
  const jamRole = roleArn("service-role/JamLambdaRole")
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
    EventSourceMappingArn: mappingArn("jam-mapping"),
    EventSourceArn: keysOnlyStream,
    FunctionArn: functionArn("JAM_Lambda_Exec_Function_EDIT_THIS"),
    BatchSize: 100,
    State: "Enabled",
    polls: 0
  })
  return { account: fake, jamRole, keysOnlyStream }
}
