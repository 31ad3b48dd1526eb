/**
 * Lambda in the pretend account: functions are Active and their updates Successful at once, published
 * versions are listed, a mapping is Creating or Updating for one poll and Deleting for one after it is
 * deleted, and an Invoke answers what the test set. A function needs a role IAM holds; a mapping, a
 * stream DynamoDB enabled.
 */
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
  ResourceNotFoundException,
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
import { Lambda } from "../../src/clients/Lambda.js"
import { type Account, credentials, functionArn, type Mapping, mappingArn, meta, PAGE_SIZE, REGION } from "./FakeAccount.js"

// Mocked once per test file, on the client class: any Lambda client built anywhere is mocked, none reaches AWS.
export const lambda = mockClient(LambdaClient)

/** Our Lambda service over a real SDK client (mocked above), as the AWS target builds it. */
export const service = Layer.succeed(Lambda, Lambda.fromClient(new LambdaClient({ region: REGION, credentials })))

export const roleCannotBeAssumed = () =>
  new InvalidParameterValueException({ message: "The role defined for the function cannot be assumed by Lambda.", ...meta })
export const cannotAccessStream = (streamArn: string) =>
  new InvalidParameterValueException({
    message: `Cannot access stream ${streamArn}. Please ensure the role can perform the GetRecords, GetShardIterator, DescribeStream, and ListStreams Actions on your stream in IAM.`,
    ...meta
  })

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

/** Puts the functions in the account, Active, and the mappings (`seeded-0`, …), settled in their state. */
export const seed = (account: Account, functions: ReadonlyArray<FunctionSeed>, mappings: ReadonlyArray<MappingSeed>) => {
  for (const f of functions) {
    if (f.tags !== undefined) account.functionTags.set(f.name, f.tags)
    account.functions.set(f.name, {
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
  for (const [i, m] of mappings.entries()) {
    const uuid = `seeded-${i}`
    account.mappings.set(uuid, {
      UUID: uuid,
      EventSourceArn: m.eventSourceArn,
      FunctionArn: functionArn(m.functionName),
      BatchSize: m.batchSize,
      EventSourceMappingArn: mappingArn(uuid),
      State: m.state ?? "Enabled",
      polls: 0
    })
    if (m.tags !== undefined) account.mappingTags.set(mappingArn(uuid), m.tags)
  }
}

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("base64")

/** A payload as the SDK hands it over: bytes that can also say themselves as a string. */
const blob = (text: string): NonNullable<InvokeCommandOutput["Payload"]> => {
  const bytes = new TextEncoder().encode(text)
  return Object.assign(bytes, { transformToString: (encoding?: string) => new TextDecoder(encoding).decode(bytes) })
}

const view = ({ polls: _, ...m }: Mapping): EventSourceMappingConfiguration => m

/** Resets the mock and answers Lambda's function and mapping commands from the account. */
export const install = (account: Account) => {
  const { tables, roles, functions, functionTags, versions, mappings, mappingTags, deleting, injected } = account
  const functionOrFail = (name: string | undefined) => {
    const found = name === undefined ? undefined : functions.get(name.split(":").at(-1) ?? name)
    if (found === undefined) throw new ResourceNotFoundException({ message: `Function not found: ${name}`, ...meta })
    return found
  }
  const mappingOrFail = (uuid: string | undefined) => {
    const found = uuid === undefined ? undefined : mappings.get(uuid)
    if (found === undefined) throw new ResourceNotFoundException({ message: `The resource you requested does not exist. (UUID ${uuid})`, ...meta })
    return found
  }

  lambda.reset()
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
    const { payload, functionError } = account.invocation()
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
}
