/**
 * The Lambda function, published from the artifact: created (tagged as ours) when missing, otherwise
 * its code and configuration updated only where they differ (an adopted Python function becomes ours).
 * Invoked once by verify; deleted by teardown only if it carries our owner tag.
 */
import {
  CreateFunctionCommand,
  DeleteFunctionCommand,
  type FunctionConfiguration,
  GetFunctionCommand,
  type GetFunctionCommandOutput,
  InvokeCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
  waitUntilFunctionActiveV2,
  waitUntilFunctionUpdatedV2
} from "@aws-sdk/client-lambda"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { isDeepStrictEqual } from "node:util"
import * as AwsCall from "../AwsCall.js"
import * as Deployment from "../Deployment.js"
import { Lambda, type LambdaError } from "../Lambda.js"
import * as Retry from "../Retry.js"
import type { Artifact } from "./Bundle.js"
import type { Outcome } from "./Step.js"

/** The function as GetFunction reports it (configuration and tags), or `undefined` when no function has that name. */
const get = (functionName: string) =>
  Effect.gen(function*() {
    const lambda = yield* Lambda
    return yield* Retry.onTransient(lambda.call("GetFunction", (c) => c.send(new GetFunctionCommand({ FunctionName: functionName })))).pipe(
      Effect.map((out): GetFunctionCommandOutput | undefined => out),
      Effect.catchTag("LambdaError", (e) => (e.kind === "NotFound" ? Effect.succeed(undefined) : Effect.fail(e)))
    )
  })

/** The function's configuration, or `undefined` when no function has that name. */
export const describe = Effect.fn("Function.describe")(function*(functionName: string) {
  return (yield* get(functionName))?.Configuration
})

/** Whether provision created the function: it carries our owner tag. */
export const isOurs = (tags: Readonly<Record<string, string>> | undefined): boolean =>
  tags?.[Deployment.OWNER_TAG.key] === Deployment.OWNER_TAG.value

/** The configuration we deploy, as CreateFunction and UpdateFunctionConfiguration take it. */
export const configuration = (names: Deployment.Names) => ({
  Runtime: Deployment.functionSettings.runtime,
  Handler: Deployment.functionSettings.handler,
  MemorySize: Deployment.functionSettings.memorySize,
  Timeout: Deployment.functionSettings.timeoutSeconds,
  Environment: { Variables: { ...Deployment.functionEnvironment(names) } }
})

/** What differs between the function as it is and as we deploy it, in words: `runtime python3.12 → nodejs22.x`, … */
export const configurationChanges = (current: FunctionConfiguration, names: Deployment.Names): ReadonlyArray<string> => {
  const wanted = configuration(names)
  const changes: Array<string> = []
  const compare = (what: string, from: unknown, to: unknown, unit = "") => {
    if (from !== to) changes.push(`${what} ${String(from)}${unit} → ${String(to)}${unit}`)
  }
  compare("runtime", current.Runtime, wanted.Runtime)
  compare("handler", current.Handler, wanted.Handler)
  compare("memory", current.MemorySize, wanted.MemorySize, " MB")
  compare("timeout", current.Timeout, wanted.Timeout, " s")
  if (!isDeepStrictEqual(current.Environment?.Variables ?? {}, wanted.Environment.Variables)) changes.push("environment")
  return changes
}

/**
 * A role IAM has only just made (or a policy only just put on it) is not yet usable by Lambda:
 * "The role defined for the function cannot be assumed by Lambda."
 */
export const isRoleNotYetUsable = (error: LambdaError): boolean =>
  AwsCall.reported(error.cause).name === "InvalidParameterValueException" && /cannot be assumed/i.test(AwsCall.detail(error.cause))

const awaitUpdated = (functionName: string) =>
  Effect.gen(function*() {
    const lambda = yield* Lambda
    yield* lambda.call("waitUntilFunctionUpdatedV2", (client) =>
      waitUntilFunctionUpdatedV2({ client, maxWaitTime: 300 }, { FunctionName: functionName }))
  })

/** An update sent while another is still in progress is refused: wait for it, then send ours. */
const whenNotBusy = <A, R>(update: Effect.Effect<A, LambdaError, R>) =>
  Effect.retry(Retry.onTransient(update), { schedule: Retry.resourceReady, while: (e) => e.kind === "Conflict" })

/**
 * Publishes the artifact as the function: created (as `role`, tagged as ours) when missing, else code
 * and configuration updated where they differ. An existing function keeps its role and its tags.
 */
export const publish = <E, R>(names: Deployment.Names, artifact: Artifact, role: Effect.Effect<string, E, R>) =>
  Effect.gen(function*() {
    const lambda = yield* Lambda
    const functionName = names.functionName
    const size = `${(artifact.zip.length / 1024).toFixed(0)} KB`
    const current = yield* describe(functionName)
    if (current === undefined) {
      const roleArn = yield* role
      const created = yield* lambda.call("CreateFunction", (c) =>
        c.send(
          new CreateFunctionCommand({
            FunctionName: functionName,
            Role: roleArn,
            Code: { ZipFile: artifact.zip },
            Description: "Dyna Elite: counts each CustTransactions insert into CustProfile, exactly once",
            ...configuration(names),
            Tags: { [Deployment.OWNER_TAG.key]: Deployment.OWNER_TAG.value }
          })
        )).pipe(Effect.retry({ schedule: Retry.iamPropagation, while: isRoleNotYetUsable }))
      yield* lambda.call("waitUntilFunctionActiveV2", (client) =>
        waitUntilFunctionActiveV2({ client, maxWaitTime: 300 }, { FunctionName: functionName }))
      return {
        action: "created",
        resource: created.FunctionArn ?? functionName,
        detail: `${Deployment.functionSettings.runtime}, ${size}`
      } satisfies Outcome
    }

    const changes: Array<string> = []
    if (current.CodeSha256 !== artifact.sha256) {
      yield* whenNotBusy(lambda.call("UpdateFunctionCode", (c) =>
        c.send(new UpdateFunctionCodeCommand({ FunctionName: functionName, ZipFile: artifact.zip }))))
      yield* awaitUpdated(functionName)
      changes.push(`code (${size})`)
    }
    const configChanges = configurationChanges(current, names)
    if (configChanges.length > 0) {
      yield* whenNotBusy(lambda.call("UpdateFunctionConfiguration", (c) =>
        c.send(new UpdateFunctionConfigurationCommand({ FunctionName: functionName, ...configuration(names) }))))
      yield* awaitUpdated(functionName)
      changes.push(...configChanges)
    }
    const resource = current.FunctionArn ?? functionName
    return changes.length === 0
      ? { action: "unchanged", resource, detail: `code sha256 ${artifact.sha256}` } satisfies Outcome
      : { action: "updated", resource, detail: changes.join(", ") } satisfies Outcome
  })

/**
 * Deletes the function if provision created it (it carries our owner tag). An adopted function (the
 * Jam's) is kept; publishing replaced its code with ours, which only its owner can put back.
 */
export const remove = Effect.fn("Function.remove")(function*(functionName: string) {
  const lambda = yield* Lambda
  const current = yield* get(functionName)
  if (current?.Configuration === undefined) return { action: "unchanged", resource: functionName, detail: "not there" } satisfies Outcome
  const resource = current.Configuration.FunctionArn ?? functionName
  if (!isOurs(current.Tags)) {
    return {
      action: "kept",
      resource,
      detail: "it was there before provision; its code is now ours: redeploy the original yourself"
    } satisfies Outcome
  }
  yield* whenNotBusy(lambda.call("DeleteFunction", (c) => c.send(new DeleteFunctionCommand({ FunctionName: functionName }))))
  return { action: "deleted", resource } satisfies Outcome
})

/** The function ran and failed (Lambda's `FunctionError`): what it threw, as its error payload says. */
export class FunctionFailed extends Schema.TaggedError<FunctionFailed>()("FunctionFailed", {
  functionName: Schema.String,
  errorType: Schema.String,
  errorMessage: Schema.String
}) {
  override get message() {
    return `function ${this.functionName} failed: ${this.errorType}: ${this.errorMessage}`
  }
}

/** The function answered with a payload that is not JSON. */
export class UnreadableResponse extends Schema.TaggedError<UnreadableResponse>()("UnreadableResponse", {
  functionName: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `function ${this.functionName} answered with a payload that is not JSON: ${this.reason}`
  }
}

const decodePayload = Schema.decodeUnknownEffect(Schema.fromJsonString(Schema.Unknown))
// What Lambda's runtimes put in the payload of a failed invocation; other fields (`trace`) are ignored.
const decodeErrorPayload = Schema.decodeUnknownOption(
  Schema.fromJsonString(Schema.Struct({ errorType: Schema.optional(Schema.String), errorMessage: Schema.optional(Schema.String) }))
)

/**
 * Runs the function once with `event` (as JSON) and waits for its response, decoded from JSON. A
 * failed invocation fails with `FunctionFailed`. Not retried: a call that fails after the function
 * ran would run it twice.
 */
export const invoke = Effect.fn("Function.invoke")(function*(functionName: string, event: unknown) {
  const lambda = yield* Lambda
  const out = yield* lambda.call("Invoke", (c) =>
    c.send(
      new InvokeCommand({
        FunctionName: functionName,
        InvocationType: "RequestResponse",
        Payload: new TextEncoder().encode(JSON.stringify(event))
      })
    ))
  const text = new TextDecoder().decode(out.Payload)
  if (out.FunctionError !== undefined) {
    const reported = Option.getOrUndefined(decodeErrorPayload(text))
    return yield* new FunctionFailed({
      functionName,
      errorType: reported?.errorType ?? out.FunctionError,
      errorMessage: reported?.errorMessage ?? text
    })
  }
  return yield* decodePayload(text).pipe(Effect.mapError((e) => new UnreadableResponse({ functionName, reason: e.message })))
})
