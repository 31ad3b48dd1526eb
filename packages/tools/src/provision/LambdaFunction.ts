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
  paginateListVersionsByFunction,
  PublishVersionCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
  waitUntilFunctionActiveV2,
  waitUntilFunctionUpdatedV2
} from "@aws-sdk/client-lambda"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { isDeepStrictEqual } from "node:util"
import * as AwsCall from "@dyna/aws/AwsCall"
import * as Deployment from "@dyna/aws/Deployment"
import { Lambda, type LambdaError } from "../clients/Lambda.js"
import * as Retry from "@dyna/aws/Retry"
import type { Artifact } from "./Bundle.js"
import { change, noChange, type Outcome } from "./Step.js"

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

/** Whether this deployment's provision created the function: it carries our owner tag with this deployment's value. */
export const isOurs = (tags: Readonly<Record<string, string>> | undefined, owner: Deployment.OwnerTag): boolean =>
  Deployment.isOwnedBy(owner, tags)

/**
 * The configuration we deploy, as CreateFunction and UpdateFunctionConfiguration take it. The
 * environment keeps every variable the function has (an adopted function's own settings) and sets ours
 * beside them.
 */
export const configuration = (
  names: Deployment.Names,
  current?: FunctionConfiguration,
  options: Deployment.FunctionOptions = Deployment.defaultFunctionOptions
) => ({
  Runtime: Deployment.functionSettings.runtime,
  Handler: Deployment.functionSettings.handler,
  MemorySize: Deployment.functionSettings.memorySize,
  Timeout: Deployment.functionSettings.timeoutSeconds,
  Environment: { Variables: { ...current?.Environment?.Variables, ...Deployment.functionEnvironment(names, options) } }
})

/** What differs between the function as it is and as we deploy it, in words: `runtime python3.12 → nodejs24.x`, … */
export const configurationChanges = (
  current: FunctionConfiguration,
  names: Deployment.Names,
  options: Deployment.FunctionOptions = Deployment.defaultFunctionOptions
): ReadonlyArray<string> => {
  const wanted = configuration(names, current, options)
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

/** What a version published to keep an adopted function's code says of itself. */
export const SAVED_VERSION_DESCRIPTION = "Saved by Dyna Elite's provision before it replaced this code"

/** Publishes the function's code and configuration as it is now as a version, so it can be restored. */
const saveVersion = (functionName: string, codeSha256: string | undefined) =>
  Effect.gen(function*() {
    const lambda = yield* Lambda
    const out = yield* whenNotBusy(lambda.call("PublishVersion", (c) =>
      c.send(new PublishVersionCommand({ FunctionName: functionName, Description: SAVED_VERSION_DESCRIPTION, CodeSha256: codeSha256 }))))
    return out.Version ?? "?"
  })

/**
 * Publishes the artifact as the function: created (as `roleArn`, tagged as ours) when missing, else code
 * and configuration updated where they differ. An existing function keeps its role, its tags and its
 * other environment variables. Replacing the code of a function this deployment did not create (the
 * Jam's) is a risk a person agrees to, and its code is first published as a version, to restore it from.
 */
export const decidePublish = <E, R>(
  names: Deployment.Names,
  artifact: Effect.Effect<Artifact, E, R>,
  roleArn: string,
  owner: Deployment.OwnerTag,
  options: Deployment.FunctionOptions = Deployment.defaultFunctionOptions
) =>
  Effect.gen(function*() {
    const functionName = names.functionName
    const built = yield* artifact
    const size = `${(built.zip.length / 1024).toFixed(0)} KB`
    const current = yield* get(functionName)
    const configured = current?.Configuration
    if (configured === undefined) {
      return change({ action: "created", resource: functionName, detail: `${Deployment.functionSettings.runtime}, ${size}` }, Effect.gen(function*() {
        const lambda = yield* Lambda
        const created = yield* lambda.call("CreateFunction", (c) =>
          c.send(
            new CreateFunctionCommand({
              FunctionName: functionName,
              Role: roleArn,
              Code: { ZipFile: built.zip },
              Description: "Dyna Elite: counts each CustTransactions insert into CustProfile, exactly once",
              ...configuration(names, undefined, options),
              Tags: { [owner.key]: owner.value }
            })
          )).pipe(Effect.retry({ schedule: Retry.iamPropagation, while: isRoleNotYetUsable }))
        yield* lambda.call("waitUntilFunctionActiveV2", (client) =>
          waitUntilFunctionActiveV2({ client, maxWaitTime: 300 }, { FunctionName: functionName }))
        return {
          action: "created",
          resource: created.FunctionArn ?? functionName,
          detail: `${Deployment.functionSettings.runtime}, ${size}`
        } satisfies Outcome
      }))
    }

    const resource = configured.FunctionArn ?? functionName
    const codeChanges = configured.CodeSha256 !== built.sha256
    const configChanges = configurationChanges(configured, names, options)
    if (!codeChanges && configChanges.length === 0) {
      return noChange({ action: "unchanged", resource, detail: `code sha256 ${built.sha256}` })
    }
    const adopted = !isOurs(current?.Tags, owner)
    const saving = adopted && codeChanges
    const planned = [...(codeChanges ? [`code (${size})`] : []), ...configChanges]
    return change({
      action: "updated",
      resource,
      detail: [...(saving ? ["its code saved as a version first"] : []), ...planned].join(", "),
      ...(saving
        ? {
          risk: `replaces the code of function ${functionName} (${configured.Runtime ?? "unknown runtime"}), which provision did not ` +
            "create; what is there now is first published as a version, to restore it from"
        }
        : {})
    }, Effect.gen(function*() {
      const lambda = yield* Lambda
      const saved = saving ? [`code before saved as version ${yield* saveVersion(functionName, configured.CodeSha256)}`] : []
      if (codeChanges) {
        yield* whenNotBusy(lambda.call("UpdateFunctionCode", (c) =>
          c.send(new UpdateFunctionCodeCommand({ FunctionName: functionName, ZipFile: built.zip }))))
        yield* awaitUpdated(functionName)
      }
      if (configChanges.length > 0) {
        yield* whenNotBusy(lambda.call("UpdateFunctionConfiguration", (c) =>
          c.send(new UpdateFunctionConfigurationCommand({ FunctionName: functionName, ...configuration(names, configured, options) }))))
        yield* awaitUpdated(functionName)
      }
      return { action: "updated", resource, detail: [...saved, ...planned].join(", ") } satisfies Outcome
    }))
  })

/** The versions provision published to keep an adopted function's code, newest last. */
const savedVersions = (functionName: string) =>
  Effect.gen(function*() {
    const lambda = yield* Lambda
    return yield* Retry.onTransient(lambda.call("ListVersionsByFunction", async (client) => {
      const versions: Array<string> = []
      for await (const page of paginateListVersionsByFunction({ client }, { FunctionName: functionName })) {
        for (const v of page.Versions ?? []) {
          if (v.Description === SAVED_VERSION_DESCRIPTION && v.Version !== undefined) versions.push(v.Version)
        }
      }
      return versions
    }))
  })

/**
 * Deletes the function if this deployment's provision created it (it carries our owner tag). An adopted
 * function (the Jam's) is kept, and the line names the version that holds its code from before.
 */
export const decideRemove = Effect.fn("Function.decideRemove")(function*(functionName: string, owner: Deployment.OwnerTag) {
  const current = yield* get(functionName)
  if (current?.Configuration === undefined) return noChange({ action: "unchanged", resource: functionName, detail: "not there" })
  const resource = current.Configuration.FunctionArn ?? functionName
  if (!isOurs(current.Tags, owner)) {
    const saved = (yield* savedVersions(functionName)).at(0)
    return noChange({
      action: "kept",
      resource,
      detail: saved === undefined
        ? "it was there before provision"
        : `it was there before provision; its code from before is version ${saved} (README: restoring an adopted function)`
    })
  }
  return change({ action: "deleted", resource }, Effect.gen(function*() {
    const lambda = yield* Lambda
    yield* whenNotBusy(lambda.call("DeleteFunction", (c) => c.send(new DeleteFunctionCommand({ FunctionName: functionName }))))
    return { action: "deleted", resource } satisfies Outcome
  }))
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
