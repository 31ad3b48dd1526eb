/**
 * The event source mapping from the transactions stream to the function, with `Deployment.mappingSettings`'s
 * settings: mappings left on a replaced stream of the table are removed, ours is created or updated,
 * then awaited until Lambda reports it `Enabled`. Teardown deletes the function's mappings on the table's
 * streams and waits until they are gone.
 */
import {
  CreateEventSourceMappingCommand,
  DeleteEventSourceMappingCommand,
  type EventSourceMappingConfiguration,
  GetEventSourceMappingCommand,
  ListTagsCommand,
  paginateListEventSourceMappings,
  UpdateEventSourceMappingCommand
} from "@aws-sdk/client-lambda"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import { isDeepStrictEqual } from "node:util"
import * as AwsCall from "@dyna/aws/AwsCall"
import * as Arn from "./Arn.js"
import { isOwnedBy, type MappingSettings, type OwnerTag } from "@dyna/aws/Deployment"
import { Lambda, type LambdaError } from "../clients/Lambda.js"
import * as Retry from "@dyna/aws/Retry"
import { change, noChange, type Outcome } from "./Step.js"

/** The mapping did not reach `Enabled`: Lambda disabled it, or it was still on its way after `Retry.resourceReady`. */
export class MappingNotEnabled extends Schema.TaggedError<MappingNotEnabled>()("MappingNotEnabled", {
  uuid: Schema.String,
  state: Schema.String,
  reason: Schema.optional(Schema.String)
}) {
  override get message() {
    const why = this.reason === undefined ? "" : ` (${this.reason})`
    return this.state === "Disabled"
      ? `event source mapping ${this.uuid} is Disabled${why}; check the function's role can read the stream, then run provision again`
      : `event source mapping ${this.uuid} is still ${this.state}${why} after 5 minutes`
  }
}

/** The mapping was deleted, but Lambda still reported it after `Retry.resourceReady`. */
export class MappingNotDeleted extends Schema.TaggedError<MappingNotDeleted>()("MappingNotDeleted", {
  uuid: Schema.String,
  state: Schema.String
}) {
  override get message() {
    return `event source mapping ${this.uuid} is still ${this.state} after 5 minutes; run teardown again later`
  }
}

/**
 * The settings every mapping call sends; `StartingPosition` only on create, as it cannot change. With an
 * on-failure destination (an S3 bucket's ARN), a batch Lambda gives up on is written there whole.
 */
export const settings = (s: MappingSettings, onFailure?: string) => ({
  ...(onFailure === undefined ? {} : { DestinationConfig: { OnFailure: { Destination: onFailure } } }),
  FilterCriteria: { Filters: s.filterPatterns.map((Pattern) => ({ Pattern })) },
  BatchSize: s.batchSize,
  MaximumBatchingWindowInSeconds: s.maximumBatchingWindowInSeconds,
  FunctionResponseTypes: [...s.functionResponseTypes],
  BisectBatchOnFunctionError: s.bisectBatchOnFunctionError,
  MaximumRetryAttempts: s.maximumRetryAttempts,
  MaximumRecordAgeInSeconds: s.maximumRecordAgeInSeconds,
  ParallelizationFactor: s.parallelizationFactor,
  MetricsConfig: { Metrics: [...s.metrics] }
})

const sameSet = (a: ReadonlyArray<string>, b: ReadonlyArray<string>) => isDeepStrictEqual([...a].sort(), [...b].sort())

/** What differs between a mapping as it is and as we want it, by setting name. */
export const mappingChanges = (
  current: EventSourceMappingConfiguration,
  s: MappingSettings,
  onFailure?: string
): ReadonlyArray<string> => {
  const wanted = settings(s, onFailure)
  const changes: Array<string> = []
  const compare = (name: string, from: unknown, to: unknown) => {
    if (from !== to) changes.push(name)
  }
  const patterns = (current.FilterCriteria?.Filters ?? []).flatMap((f) => (f.Pattern === undefined ? [] : [f.Pattern]))
  if (!sameSet(patterns, s.filterPatterns)) changes.push("filter")
  compare("batch size", current.BatchSize, wanted.BatchSize)
  compare("batching window", current.MaximumBatchingWindowInSeconds, wanted.MaximumBatchingWindowInSeconds)
  if (!sameSet(current.FunctionResponseTypes ?? [], wanted.FunctionResponseTypes)) changes.push("response types")
  compare("bisect on error", current.BisectBatchOnFunctionError, wanted.BisectBatchOnFunctionError)
  compare("retry attempts", current.MaximumRetryAttempts, wanted.MaximumRetryAttempts)
  compare("record age", current.MaximumRecordAgeInSeconds, wanted.MaximumRecordAgeInSeconds)
  compare("parallelization", current.ParallelizationFactor, wanted.ParallelizationFactor)
  if (!sameSet(current.MetricsConfig?.Metrics ?? [], s.metrics)) changes.push("metrics")
  if (onFailure !== undefined) compare("on-failure destination", current.DestinationConfig?.OnFailure?.Destination, onFailure)
  if (current.State === "Disabled" || current.State === "Disabling") changes.push("enabled")
  return changes
}

/**
 * A policy only just put on the role is not yet in force for Lambda: "Cannot access stream …, ensure the
 * role can perform the GetRecords …" (or, for a role this new, "cannot be assumed").
 */
export const isStreamNotYetReadable = (error: LambdaError): boolean =>
  AwsCall.reported(error.cause).name === "InvalidParameterValueException" &&
  /cannot access stream|does not have permissions|cannot be assumed/i.test(AwsCall.detail(error.cause))

/** Every event source mapping of the function, all pages. */
export const list = (functionName: string) =>
  Effect.gen(function*() {
    const lambda = yield* Lambda
    return yield* Retry.onTransient(lambda.call("ListEventSourceMappings", async (client) => {
      const mappings: Array<EventSourceMappingConfiguration> = []
      for await (const page of paginateListEventSourceMappings({ client }, { FunctionName: functionName })) {
        mappings.push(...(page.EventSourceMappings ?? []))
      }
      return mappings
    }))
  })

/** Polls the mapping until Lambda reports it `Enabled`; `Disabled` fails at once, anything else is waited for. */
export const awaitEnabled = (uuid: string) =>
  Effect.gen(function*() {
    const lambda = yield* Lambda
    const current = yield* Retry.onTransient(lambda.call("GetEventSourceMapping", (c) => c.send(new GetEventSourceMappingCommand({ UUID: uuid }))))
    if (current.State === "Enabled") return current
    return yield* new MappingNotEnabled({ uuid, state: current.State ?? "unknown", reason: current.StateTransitionReason })
  }).pipe(
    Effect.retry({
      schedule: Retry.resourceReady,
      while: (e) => e._tag === "MappingNotEnabled" && e.state !== "Disabled"
    })
  )

/** Polls the deleted mapping until Lambda no longer knows it. */
export const awaitDeleted = (uuid: string) =>
  Effect.gen(function*() {
    const lambda = yield* Lambda
    const current = yield* Retry.onTransient(lambda.call("GetEventSourceMapping", (c) => c.send(new GetEventSourceMappingCommand({ UUID: uuid })))).pipe(
      Effect.map((out): EventSourceMappingConfiguration | undefined => out),
      Effect.catchTag("LambdaError", (e) => (e.kind === "NotFound" ? Effect.succeed(undefined) : Effect.fail(e)))
    )
    if (current !== undefined) return yield* new MappingNotDeleted({ uuid, state: current.State ?? "unknown" })
  }).pipe(Effect.retry({ schedule: Retry.resourceReady, while: (e) => e._tag === "MappingNotDeleted" }))

/** The UUID of a mapping Lambda answered with; a mapping without one breaks the API's contract. */
const uuidOf = (m: EventSourceMappingConfiguration) =>
  m.UUID === undefined ? Effect.die(new Error("Lambda answered with an event source mapping without a UUID")) : Effect.succeed(m.UUID)

/** Deletes the mapping; one still being created or updated refuses deletion for a moment. */
const deleteMapping = (uuid: string) =>
  Effect.gen(function*() {
    const lambda = yield* Lambda
    yield* Retry.onTransient(lambda.call("DeleteEventSourceMapping", (c) => c.send(new DeleteEventSourceMappingCommand({ UUID: uuid }))))
  }).pipe(Effect.retry({ schedule: Retry.resourceReady, while: (e) => e.kind === "Conflict" }))

/** A mapping's tags (Lambda's ListTags on its ARN). */
const tagsOf = (mapping: EventSourceMappingConfiguration) =>
  Effect.gen(function*() {
    const lambda = yield* Lambda
    const arn = mapping.EventSourceMappingArn
    if (arn === undefined) return {}
    return (yield* Retry.onTransient(lambda.call("ListTags", (c) => c.send(new ListTagsCommand({ Resource: arn }))))).Tags ?? {}
  })

const isOurs = (owner: OwnerTag) => (mapping: EventSourceMappingConfiguration) =>
  Effect.map(tagsOf(mapping), (tags) => isOwnedBy(owner, tags))

/**
 * Maps the table's current stream (`streamArn`; `undefined` while provision has yet to make it) to the
 * function, tagged as ours. Mappings of the function on another stream of the same table read a stream
 * that was replaced, and are removed: ours at once, another's (the Jam's) only as a risk a person agrees
 * to. Changing the settings of a mapping provision did not create is such a risk too. Mappings on other
 * sources are left alone.
 */
export const decide = Effect.fn("EventSourceMapping.decide")(function*(
  functionName: string,
  tableArn: string,
  streamArn: string | undefined,
  s: MappingSettings,
  owner: OwnerTag,
  onFailure?: string
) {
  const mappings = yield* list(functionName).pipe(
    Effect.catchTag("LambdaError", (e) => (e.kind === "NotFound" ? Effect.succeed([]) : Effect.fail(e)))
  )
  const onThisTable = mappings.filter((m) => m.EventSourceArn?.startsWith(`${tableArn}/stream/`) === true)
  const stale = onThisTable.filter((m) => m.EventSourceArn !== streamArn)
  const staleOurs = yield* Effect.filter(stale, isOurs(owner))
  const staleOthers = stale.filter((m) => !staleOurs.includes(m))
  const removed = stale.length === 0 ? [] : [`removes ${stale.length} on a replaced stream`]
  const removeStale = Effect.forEach(stale, (m) => uuidOf(m).pipe(Effect.flatMap(deleteMapping)), { discard: true })
  const staleRisk = staleOthers.length === 0 ? [] : [
    `deletes ${staleOthers.length === 1 ? "mapping" : "mappings"} ${staleOthers.map((m) => m.UUID).join(", ")} of ${functionName}, ` +
    "which provision did not create, on a replaced stream of the table"
  ]
  const current = streamArn === undefined ? undefined : onThisTable.find((m) => m.EventSourceArn === streamArn)

  if (current === undefined) {
    const from = streamArn ?? `the new stream of ${tableArn}`
    return change({
      action: "created",
      resource: `mapping ${functionName} ← ${from}`,
      detail: [`from ${from}`, ...removed].join(", "),
      ...(staleRisk.length === 0 ? {} : { risk: staleRisk.join("; ") })
    }, Effect.gen(function*() {
      const lambda = yield* Lambda
      yield* removeStale
      if (streamArn === undefined) return yield* Effect.die(new Error(`the stream of ${tableArn} is missing after the stream step`))
      const created = yield* lambda.call("CreateEventSourceMapping", (c) =>
        c.send(
          new CreateEventSourceMappingCommand({
            FunctionName: functionName,
            EventSourceArn: streamArn,
            Enabled: true,
            StartingPosition: s.startingPosition,
            ...settings(s, onFailure),
            Tags: { [owner.key]: owner.value }
          })
        )).pipe(Effect.retry({ schedule: Retry.iamPropagation, while: isStreamNotYetReadable }))
      const enabled = yield* awaitEnabled(yield* uuidOf(created))
      return {
        action: "created",
        resource: enabled.EventSourceMappingArn ?? enabled.UUID ?? streamArn,
        detail: [`from ${streamArn}`, ...removed].join(", ")
      } satisfies Outcome
    }))
  }

  const uuid = yield* uuidOf(current)
  const changes = mappingChanges(current, s, onFailure)
  const resource = current.EventSourceMappingArn ?? uuid
  if (changes.length === 0 && stale.length === 0 && current.State === "Enabled") {
    return noChange({ action: "unchanged", resource, detail: `from ${streamArn}` })
  }
  const adopted = changes.length > 0 && !(yield* isOurs(owner)(current))
  const risks = [
    ...staleRisk,
    ...(adopted ? [`changes the settings of mapping ${uuid} (${changes.join(", ")}), which provision did not create`] : [])
  ]
  const detail = [...changes, ...removed].join(", ") || "waits until it is Enabled"
  return change({ action: "updated", resource, detail, ...(risks.length === 0 ? {} : { risk: risks.join("; ") }) }, Effect.gen(function*() {
    const lambda = yield* Lambda
    yield* removeStale
    if (changes.length > 0) {
      yield* Retry.onTransient(lambda.call("UpdateEventSourceMapping", (c) =>
        c.send(new UpdateEventSourceMappingCommand({ UUID: uuid, FunctionName: functionName, Enabled: true, ...settings(s, onFailure) })))).pipe(
          Effect.retry({ schedule: Retry.resourceReady, while: (e) => e.kind === "Conflict" })
        )
    }
    const enabled = yield* awaitEnabled(uuid)
    return { action: "updated", resource: enabled.EventSourceMappingArn ?? uuid, detail } satisfies Outcome
  }))
})

/** Whether the ARN is a stream of the named table: `arn:…:dynamodb:…:table/NAME/stream/…`. */
const isStreamOf = (tableName: string) => (m: EventSourceMappingConfiguration): boolean => {
  const arn = m.EventSourceArn === undefined ? undefined : Result.getOrUndefined(Arn.parse(m.EventSourceArn))
  return arn?.service === "dynamodb" && arn.resource.startsWith(`table/${tableName}/stream/`)
}

/**
 * Deletes the function's mappings on any stream of the table `tableName` that this deployment created
 * (they carry our owner tag) and waits until each is gone; another's mapping is kept, and mappings on
 * other sources are left alone. A missing function has none.
 */
export const decideRemove = Effect.fn("EventSourceMapping.decideRemove")(function*(functionName: string, tableName: string, owner: OwnerTag) {
  const mappings = yield* list(functionName).pipe(
    Effect.catchTag("LambdaError", (e) => (e.kind === "NotFound" ? Effect.succeed([]) : Effect.fail(e)))
  )
  const onTable = mappings.filter(isStreamOf(tableName))
  const ours = yield* Effect.filter(onTable, isOurs(owner))
  const others = onTable.filter((m) => !ours.includes(m))
  const keptNote = others.length === 0 ? [] : [`keeps ${others.map((m) => m.UUID).join(", ")}: not created by provision`]
  if (ours.length === 0) {
    return noChange({
      action: others.length === 0 ? "unchanged" : "kept",
      resource: others.length === 0 ? `stream mappings of ${functionName}` : others.map((m) => m.EventSourceMappingArn ?? m.UUID).join(", "),
      detail: others.length === 0 ? `none on ${tableName}` : "not created by provision"
    })
  }
  const resource = ours.map((m) => m.EventSourceMappingArn ?? m.UUID).join(", ")
  const detail = [`from ${[...new Set(ours.map((m) => m.EventSourceArn))].join(", ")}`, ...keptNote].join("; ")
  return change({ action: "deleted", resource, detail }, Effect.gen(function*() {
    yield* Effect.forEach(ours, (m) =>
      Effect.gen(function*() {
        const uuid = yield* uuidOf(m)
        // One a previous teardown deleted may still be on its way out: only wait for it.
        if (m.State !== "Deleting") yield* deleteMapping(uuid)
        yield* awaitDeleted(uuid)
      }), { discard: true })
    return { action: "deleted", resource, detail } satisfies Outcome
  }))
})
