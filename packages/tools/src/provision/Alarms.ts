/**
 * The deployment's CloudWatch alarms: the pipeline is behind, whole batches fail, a record was
 * quarantined, a batch was given up to the on-failure bucket, the function is throttled. Provision puts
 * each (tagged as ours) and keeps it as defined; teardown deletes only the ones that carry our tag.
 */
import {
  type CloudWatchClient,
  DeleteAlarmsCommand,
  DescribeAlarmsCommand,
  type Dimension,
  ListTagsForResourceCommand,
  type MetricAlarm,
  PutMetricAlarmCommand,
  type PutMetricAlarmCommandInput
} from "@aws-sdk/client-cloudwatch"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import { isDeepStrictEqual } from "node:util"
import { isOwnedBy, type OwnerTag } from "@dyna/aws/Deployment"
import * as Metrics from "@dyna/aws/Metrics"
import * as Retry from "@dyna/aws/Retry"
import { CloudWatch, type CloudWatchError } from "../clients/CloudWatch.js"
import { applied, type Change, change, noChange, type Outcome, type Step } from "./Step.js"

/** What makes each alarm go off; `--alarm-threshold KEY=N` changes one (`parseThresholds`). */
export interface Thresholds {
  /** Seconds: the oldest record handed to the function was older than this, every minute for 5 minutes. */
  readonly iteratorAgeSeconds: number
  /** Function errors (a batch failed whole) in 5 minutes. */
  readonly errors: number
  /** Records set aside in the quarantine table in 5 minutes. */
  readonly quarantined: number
  /** Records Lambda gave up on and sent to the on-failure bucket in 5 minutes. */
  readonly givenUp: number
  /** Invocations Lambda throttled in 5 minutes. */
  readonly throttles: number
}

/** A minute behind is already unusual (a purchase shows on the profile well under a second later); any failure is worth a look. */
export const defaultThresholds: Thresholds = { iteratorAgeSeconds: 60, errors: 1, quarantined: 1, givenUp: 1, throttles: 1 }

/** The keys `--alarm-threshold` takes, and the field each sets. */
export const thresholdKeys = {
  "iterator-age": "iteratorAgeSeconds",
  errors: "errors",
  quarantined: "quarantined",
  "given-up": "givenUp",
  throttles: "throttles"
} as const satisfies Record<string, keyof Thresholds>

const isKey = (key: string): key is keyof typeof thresholdKeys => Object.hasOwn(thresholdKeys, key)

/**
 * `--alarm-threshold iterator-age=120 --alarm-threshold errors=3`: the defaults with those changed, or the
 * sentence that says what is wrong with one (an unknown key, a value that is not a whole number from 1 to 1,000,000).
 */
export const parseThresholds = (texts: ReadonlyArray<string>, base: Thresholds = defaultThresholds): Result.Result<Thresholds, string> => {
  let thresholds = base
  for (const text of texts) {
    const [key = "", value = "", ...rest] = text.split("=")
    if (!isKey(key) || rest.length > 0) {
      return Result.fail(`--alarm-threshold takes KEY=N with KEY one of ${Object.keys(thresholdKeys).join(", ")}, not ${JSON.stringify(text)}`)
    }
    const n = /^\d+$/.test(value) ? Number(value) : Number.NaN
    if (!(n >= 1 && n <= 1_000_000)) return Result.fail(`--alarm-threshold ${key} must be a whole number from 1 to 1000000, not ${JSON.stringify(value)}`)
    thresholds = { ...thresholds, [thresholdKeys[key]]: n }
  }
  return Result.succeed(thresholds)
}

/** Who the alarms are for: the function, its mapping, the deployment's prefix and owner tag, where they notify. */
export interface Options {
  readonly prefix: string
  readonly functionName: string
  readonly owner: OwnerTag
  readonly thresholds: Thresholds
  /** An SNS topic the user already has (`--alarm-topic`): told when an alarm goes off and when it is OK again. */
  readonly topic?: string | undefined
}

/** The alarms' kinds, in the order provision puts them. */
export const KINDS = ["behind", "errors", "quarantined", "given-up", "throttles"] as const
export type Kind = typeof KINDS[number]

/** An alarm's name: `<prefix>DynaElite-<kind>`, so the deployment's alarms list together. */
export const alarmName = (prefix: string, kind: Kind): string => `${prefix}DynaElite-${kind}`

/** Lambda's event source mapping metrics carry the mapping's UUID, not the function's name. */
export const MAPPING_DIMENSION = "EventSourceMappingUUID"

/**
 * Records Lambda sent to the mapping's on-failure destination: one of the event source mapping metrics
 * the `EventCount` group turns on (`MetricsConfig: { Metrics: ["EventCount"] }`): "For event source
 * mappings with an on-failure destination configured, the number of events sent to that destination"
 * (Lambda developer guide, "Types of metrics for Lambda functions", Event source mapping metrics; for
 * Kinesis and DynamoDB streams). Not `DestinationDeliveryFailures`: that counts failed deliveries, and
 * `DroppedEventCount` the records dropped without reaching a destination.
 */
export const GIVEN_UP_METRIC = "OnFailureDestinationDeliveredEventCount"

/** The definition of one alarm, exactly as PutMetricAlarm takes it (without tags). */
export type Definition = Omit<PutMetricAlarmCommandInput, "Tags"> & {
  readonly AlarmName: string
  readonly AlarmDescription: string
  readonly Namespace: string
  readonly MetricName: string
  readonly Dimensions: ReadonlyArray<Dimension>
}

const FIVE_MINUTES = 300

/**
 * The alarm of `kind`, as provision puts it. `mappingUuid` is the stream mapping's (the given-up alarm
 * watches it). Every alarm treats missing data as fine: an idle stream emits no data points.
 */
export const definition = (options: Options, kind: Kind, mappingUuid: string): Definition => {
  const { functionName, thresholds: t, topic } = options
  const byFunction = [{ Name: Metrics.DIMENSION, Value: functionName }]
  const actions = topic === undefined ? [] : [topic]
  const common = {
    AlarmName: alarmName(options.prefix, kind),
    ActionsEnabled: true,
    AlarmActions: actions,
    OKActions: actions,
    TreatMissingData: "notBreaching"
  } as const
  const count = (n: number) => ({
    Statistic: "Sum",
    Period: FIVE_MINUTES,
    EvaluationPeriods: 1,
    DatapointsToAlarm: 1,
    Threshold: n,
    ComparisonOperator: "GreaterThanOrEqualToThreshold"
  } as const)
  switch (kind) {
    case "behind":
      return {
        ...common,
        AlarmDescription: `The pipeline is behind: the oldest record handed to ${functionName} was more than ${t.iteratorAgeSeconds} s old ` +
          "(IteratorAge maximum) every minute for 5 minutes. Purchases reach profiles late; see the dashboard and pnpm status.",
        Namespace: "AWS/Lambda",
        MetricName: "IteratorAge",
        Dimensions: byFunction,
        Statistic: "Maximum",
        Period: 60,
        EvaluationPeriods: 5,
        DatapointsToAlarm: 5,
        Threshold: t.iteratorAgeSeconds * 1000,
        ComparisonOperator: "GreaterThanThreshold",
        Unit: "Milliseconds"
      }
    case "errors":
      return {
        ...common,
        AlarmDescription: `Whole batches are failing: ${functionName} failed ${t.errors} or more invocation(s) in 5 minutes (Errors). ` +
          "Lambda retries and bisects the batch, then gives it up to the on-failure bucket; read the function's log.",
        Namespace: "AWS/Lambda",
        MetricName: "Errors",
        Dimensions: byFunction,
        ...count(t.errors)
      }
    case "quarantined":
      return {
        ...common,
        AlarmDescription: `${t.quarantined} or more record(s) were quarantined in 5 minutes (${Metrics.NAMESPACE} Quarantined): ` +
          "they were not counted. pnpm status lists them; fix the row and pnpm replay it.",
        Namespace: Metrics.NAMESPACE,
        MetricName: "Quarantined",
        Dimensions: byFunction,
        ...count(t.quarantined)
      }
    case "given-up":
      return {
        ...common,
        AlarmDescription: `Lambda gave up on ${t.givenUp} or more record(s) in 5 minutes and sent their batches to the on-failure bucket ` +
          `(${GIVEN_UP_METRIC}): they were not counted. pnpm replay puts them through again.`,
        Namespace: "AWS/Lambda",
        MetricName: GIVEN_UP_METRIC,
        Dimensions: [{ Name: MAPPING_DIMENSION, Value: mappingUuid }],
        ...count(t.givenUp)
      }
    case "throttles":
      return {
        ...common,
        AlarmDescription: `Lambda throttled ${t.throttles} or more invocation(s) of ${functionName} in 5 minutes (Throttles): ` +
          "the account's or the function's concurrency is used up, and the pipeline falls behind.",
        Namespace: "AWS/Lambda",
        MetricName: "Throttles",
        Dimensions: byFunction,
        ...count(t.throttles)
      }
  }
}

const sortedDimensions = (ds: ReadonlyArray<Dimension>) =>
  [...ds].map((d) => ({ Name: d.Name, Value: d.Value })).sort((a, b) => `${a.Name}`.localeCompare(`${b.Name}`))
const sorted = (xs: ReadonlyArray<string> | undefined) => [...(xs ?? [])].sort()

/** What differs between an alarm as CloudWatch holds it and its definition, by field name. */
export const differences = (current: MetricAlarm, wanted: Definition): ReadonlyArray<string> => {
  const fields = [
    "AlarmDescription",
    "ActionsEnabled",
    "Namespace",
    "MetricName",
    "Statistic",
    "Period",
    "EvaluationPeriods",
    "DatapointsToAlarm",
    "Threshold",
    "ComparisonOperator",
    "TreatMissingData",
    "Unit"
  ] as const
  const changed: Array<string> = fields.filter((f) => current[f] !== wanted[f])
  if (!isDeepStrictEqual(sortedDimensions(current.Dimensions ?? []), sortedDimensions(wanted.Dimensions))) changed.push("Dimensions")
  if (!isDeepStrictEqual(sorted(current.AlarmActions), sorted(wanted.AlarmActions))) changed.push("AlarmActions")
  if (!isDeepStrictEqual(sorted(current.OKActions), sorted(wanted.OKActions))) changed.push("OKActions")
  return changed
}

const call = <A>(operation: string, f: (client: CloudWatchClient) => Promise<A>) =>
  Effect.flatMap(CloudWatch, (cw) => Retry.onTransient(cw.call(operation, f)))

/** The metric alarm of that name, if there is one. */
export const describe = (name: string) =>
  call("DescribeAlarms", (c) => c.send(new DescribeAlarmsCommand({ AlarmNames: [name], AlarmTypes: ["MetricAlarm"] }))).pipe(
    Effect.map((out) => out.MetricAlarms?.find((a) => a.AlarmName === name))
  )

/** Whether this deployment's provision put the alarm: it carries our owner tag. */
export const isOurs = (alarm: MetricAlarm, owner: OwnerTag) =>
  alarm.AlarmArn === undefined ? Effect.succeed(false) : call("ListTagsForResource", (c) => c.send(new ListTagsForResourceCommand({ ResourceARN: alarm.AlarmArn }))).pipe(
    Effect.map((out) => isOwnedBy(owner, Object.fromEntries((out.Tags ?? []).flatMap((t) => (t.Key === undefined ? [] : [[t.Key, t.Value ?? ""]])))))
  )

const summary = (d: Definition) =>
  `${d.Namespace} ${d.MetricName} ${d.Statistic} ${d.ComparisonOperator === "GreaterThanThreshold" ? ">" : "≥"} ${d.Threshold}` +
  ` over ${d.Period} s × ${d.EvaluationPeriods}${d.AlarmActions?.length === 0 ? ", no topic" : `, to ${d.AlarmActions?.join(", ")}`}`

const put = (wanted: Definition, owner: OwnerTag, action: "created" | "updated", detail: string) =>
  call("PutMetricAlarm", (c) =>
    c.send(new PutMetricAlarmCommand({
      ...wanted,
      Dimensions: [...wanted.Dimensions],
      // Tags are taken when the alarm is created, and ignored when it is updated.
      ...(action === "created" ? { Tags: [{ Key: owner.key, Value: owner.value }] } : {})
    }))).pipe(Effect.as({ action, resource: wanted.AlarmName, detail } satisfies Outcome))

/**
 * Decides (DescribeAlarms and ListTagsForResource only) what provision does about the alarm of `kind`:
 * puts it when missing, puts it again when it differs from its definition and is ours, and keeps an
 * alarm of that name that someone else made. `mappingUuid` is looked up when the step decides
 * (`undefined` before the mapping exists: then the alarm is put once it does).
 */
export const decide = <E, R>(
  options: Options,
  kind: Kind,
  mappingUuid: Effect.Effect<string | undefined, E, R>
): Effect.Effect<Change<CloudWatchError | E, CloudWatch | R>, CloudWatchError | E, CloudWatch | R> =>
  Effect.gen(function*() {
    const name = alarmName(options.prefix, kind)
    const uuid = kind === "given-up" ? yield* mappingUuid : "not used"
    if (uuid === undefined) {
      // A plan before the mapping exists: decided again once it does, when provision gets here.
      const later = mappingUuid.pipe(
        Effect.flatMap((found) => found === undefined ? Effect.die(new Error("the stream mapping is missing after the mapping step")) : Effect.succeed(found))
      )
      return change({ action: "created", resource: name, detail: "once the stream mapping exists" }, applied(decide(options, kind, later)))
    }
    const wanted = definition(options, kind, uuid)
    const current = yield* describe(name)
    if (current === undefined) return change({ action: "created", resource: name, detail: summary(wanted) }, put(wanted, options.owner, "created", summary(wanted)))
    if (!(yield* isOurs(current, options.owner))) {
      return noChange({ action: "kept", resource: name, detail: "an alarm of that name that provision did not create (no owner tag)" })
    }
    const changed = differences(current, wanted)
    if (changed.length === 0) return noChange({ action: "unchanged", resource: name, detail: summary(wanted) })
    const detail = changed.join(", ")
    return change({ action: "updated", resource: name, detail }, put(wanted, options.owner, "updated", detail))
  }).pipe(Effect.withSpan("Alarms.decide", { attributes: { kind } }))

/** One provisioning step per alarm, in `KINDS` order. */
export const steps = <E, R>(
  options: Options,
  mappingUuid: Effect.Effect<string | undefined, E, R>
): ReadonlyArray<Step<CloudWatchError | E, CloudWatch | R>> =>
  KINDS.map((kind) => ({ title: `alarm ${alarmName(options.prefix, kind)}`, decide: decide(options, kind, mappingUuid) }))

/** Decides what teardown does about the alarm of `kind`: deletes it only when it carries our owner tag. */
export const decideRemove = (prefix: string, kind: Kind, owner: OwnerTag): Effect.Effect<Change<CloudWatchError, CloudWatch>, CloudWatchError, CloudWatch> =>
  Effect.gen(function*() {
    const name = alarmName(prefix, kind)
    const current = yield* describe(name)
    if (current === undefined) return noChange({ action: "unchanged", resource: name, detail: "not there" })
    if (!(yield* isOurs(current, owner))) return noChange({ action: "kept", resource: name, detail: "provision did not create it (no owner tag)" })
    return change(
      { action: "deleted", resource: name },
      call("DeleteAlarms", (c) => c.send(new DeleteAlarmsCommand({ AlarmNames: [name] }))).pipe(Effect.as({ action: "deleted", resource: name } satisfies Outcome))
    )
  }).pipe(Effect.withSpan("Alarms.decideRemove", { attributes: { kind } }))

/** One teardown step per alarm. */
export const removeSteps = (prefix: string, owner: OwnerTag): ReadonlyArray<Step<CloudWatchError, CloudWatch>> =>
  KINDS.map((kind) => ({ title: `alarm ${alarmName(prefix, kind)}`, decide: decideRemove(prefix, kind, owner) }))
