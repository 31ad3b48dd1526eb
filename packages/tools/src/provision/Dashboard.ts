/**
 * The deployment's CloudWatch dashboard, `<prefix>DynaElite`: records applied and duplicates, promotions,
 * quarantined and given-up records, iterator age, errors, duration and write units per transaction, at a
 * glance. Dashboards take no tags, so ownership is written in the dashboard itself: its first widget, a
 * text widget, names our owner tag (`dyna-elite=<region>/<prefix>`). Provision only changes, and teardown
 * only deletes, a dashboard of our name whose body carries that marker; any other is kept.
 */
import { type CloudWatchClient, DeleteDashboardsCommand, GetDashboardCommand, PutDashboardCommand } from "@aws-sdk/client-cloudwatch"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { isDeepStrictEqual } from "node:util"
import type { Location, OwnerTag } from "@dyna/aws/Deployment"
import * as Metrics from "@dyna/aws/Metrics"
import * as Retry from "@dyna/aws/Retry"
import { CloudWatch, type CloudWatchError } from "../clients/CloudWatch.js"
import { GIVEN_UP_METRIC, MAPPING_DIMENSION } from "./Alarms.js"
import { applied, type Change, change, noChange, type Outcome, type Step } from "./Step.js"

/** The dashboard's name: `DynaElite`, after the deployment's prefix. */
export const dashboardName = (prefix: string): string => `${prefix}DynaElite`

/**
 * The words in the first widget that say which deployment's provision made the dashboard. Quoted as code,
 * so that one deployment's marker is never part of another's (`eu-west-1/` is a prefix of `eu-west-1/dev-`).
 */
export const marker = (owner: OwnerTag): string => `\`${owner.key}=${owner.value}\``

/** Where a person opens the dashboard: the CloudWatch console of its region (in its partition). */
export const consoleUrl = (name: string, at: Pick<Location, "partition" | "region">): string => {
  const host = at.partition === "aws-cn"
    ? `${at.region}.console.amazonaws.cn`
    : at.partition === "aws-us-gov"
    ? "console.amazonaws-us-gov.com"
    : `${at.region}.console.aws.amazon.com`
  return `https://${host}/cloudwatch/home?region=${at.region}#dashboards/dashboard/${encodeURIComponent(name)}`
}

/** What the dashboard shows: the function's metrics and its mapping's. */
export interface Options {
  readonly prefix: string
  readonly functionName: string
  readonly owner: OwnerTag
  readonly location: Pick<Location, "partition" | "region">
  /** Drawn as a line on the iterator age graph: where the "behind" alarm goes off. */
  readonly iteratorAgeSeconds: number
}

/** One metric line of a widget: namespace, name, dimension name and value, and how it is drawn. */
type MetricLine = readonly [string, string, string, string, Readonly<Record<string, unknown>>]
/** A line computed from others (`id`s of metric lines). */
type ExpressionLine = readonly [Readonly<{ expression: string; label: string; id: string }>]

const ours = (name: Metrics.MetricName, functionName: string, options: Readonly<Record<string, unknown>>): MetricLine =>
  [Metrics.NAMESPACE, name, Metrics.DIMENSION, functionName, options]
const lambda = (name: string, functionName: string, options: Readonly<Record<string, unknown>>): MetricLine =>
  ["AWS/Lambda", name, "FunctionName", functionName, options]

const graph = (
  at: { x: number; y: number },
  title: string,
  region: string,
  metrics: ReadonlyArray<MetricLine | ExpressionLine>,
  extra: Readonly<Record<string, unknown>> = {}
) => ({
  type: "metric",
  x: at.x,
  y: at.y,
  width: 12,
  height: 6,
  properties: { title, region, view: "timeSeries", stacked: false, period: 60, metrics, ...extra }
})

/** The dashboard's body, as PutDashboard takes it (before `JSON.stringify`). `mappingUuid`: the stream mapping's. */
export const body = (options: Options, mappingUuid: string) => {
  const { functionName: fn, location: { region } } = options
  return {
    widgets: [
      {
        type: "text",
        x: 0,
        y: 0,
        width: 24,
        height: 2,
        properties: {
          markdown: `## DynaElite: ${fn}\nMade by \`pnpm provision\` for ${marker(options.owner)}; \`pnpm teardown\` deletes it. ` +
            "Per minute unless said; the alarms are the DynaElite-* ones."
        }
      },
      graph({ x: 0, y: 2 }, "Records applied and duplicates skipped, per minute", region, [
        ours("RecordsApplied", fn, { stat: "Sum", label: "applied" }),
        ours("DuplicatesSkipped", fn, { stat: "Sum", label: "duplicates skipped" })
      ]),
      graph({ x: 12, y: 2 }, "Promotions to Elite, per minute", region, [ours("Promotions", fn, { stat: "Sum", label: "promotions" })]),
      graph({ x: 0, y: 8 }, "Quarantined and given-up records, per minute", region, [
        ours("Quarantined", fn, { stat: "Sum", label: "quarantined" }),
        ["AWS/Lambda", GIVEN_UP_METRIC, MAPPING_DIMENSION, mappingUuid, { stat: "Sum", label: "given up to the on-failure bucket" }]
      ]),
      graph({ x: 12, y: 8 }, "Iterator age (maximum, ms): how far behind the stream", region, [
        lambda("IteratorAge", fn, { stat: "Maximum", label: "iterator age" })
      ], {
        annotations: { horizontal: [{ label: "behind alarm", value: options.iteratorAgeSeconds * 1000 }] }
      }),
      graph({ x: 0, y: 14 }, "Errors and throttles, per minute", region, [
        lambda("Errors", fn, { stat: "Sum", label: "errors (a batch failed whole)" }),
        lambda("Throttles", fn, { stat: "Sum", label: "throttles" })
      ]),
      graph({ x: 12, y: 14 }, "Duration (ms)", region, [
        lambda("Duration", fn, { stat: "p99", label: "invocation p99" }),
        lambda("Duration", fn, { stat: "Average", label: "invocation average" }),
        ours("BatchDuration", fn, { stat: "Average", label: "batch average" })
      ]),
      graph({ x: 0, y: 20 }, "Write units per transaction applied", region, [
        [{ expression: "units / applied", label: "write units per transaction", id: "perTransaction" }],
        ours("WriteUnits", fn, { stat: "Sum", id: "units", visible: false }),
        ours("RecordsApplied", fn, { stat: "Sum", id: "applied", visible: false })
      ])
    ]
  }
}

/** The metrics a body's graphs name, as `namespace/name` (the expression lines left out). */
export const metricsOf = (dashboard: ReturnType<typeof body>): ReadonlyArray<string> =>
  dashboard.widgets.flatMap((w) =>
    "metrics" in w.properties ? w.properties.metrics.flatMap((line) => (line.length === 5 ? [`${line[0]}/${line[1]}`] : [])) : []
  )

/** A stored body, read only as far as ownership needs: its text widgets' markdown. */
const StoredBody = Schema.fromJsonString(Schema.Struct({
  widgets: Schema.Array(Schema.Struct({
    type: Schema.String,
    properties: Schema.optional(Schema.Struct({ markdown: Schema.optional(Schema.String) }))
  }))
}))
const decodeStored = Schema.decodeUnknownOption(StoredBody)
const decodeJson = Schema.decodeUnknownOption(Schema.fromJsonString(Schema.Unknown))

/** Whether a stored body carries our marker (in its first widget, as provision writes it). */
export const carriesMarker = (stored: string, owner: OwnerTag): boolean =>
  decodeStored(stored).pipe(
    Option.map(({ widgets }) => widgets[0]?.type === "text" && (widgets[0].properties?.markdown ?? "").includes(marker(owner))),
    Option.getOrElse(() => false)
  )

const call = <A>(operation: string, f: (client: CloudWatchClient) => Promise<A>) =>
  Effect.flatMap(CloudWatch, (cw) => Retry.onTransient(cw.call(operation, f)))

/** The dashboard's stored body, or `undefined` when there is no dashboard of that name. */
export const stored = (name: string) =>
  call("GetDashboard", (c) => c.send(new GetDashboardCommand({ DashboardName: name }))).pipe(
    Effect.map((out): string | undefined => out.DashboardBody ?? ""),
    Effect.catchTag("CloudWatchError", (e) => (e.kind === "NotFound" ? Effect.succeed(undefined) : Effect.fail(e)))
  )

const put = (name: string, wanted: ReturnType<typeof body>, action: "created" | "updated", detail: string) =>
  call("PutDashboard", (c) => c.send(new PutDashboardCommand({ DashboardName: name, DashboardBody: JSON.stringify(wanted) }))).pipe(
    Effect.as({ action, resource: name, detail } satisfies Outcome)
  )

/**
 * Decides (GetDashboard only) what provision does about the dashboard: puts it when missing or when ours
 * and different; keeps a dashboard of that name without our marker. The detail is its console URL.
 * `mappingUuid` is looked up when the step decides (`undefined` before the mapping exists).
 */
export const decide = <E, R>(
  options: Options,
  mappingUuid: Effect.Effect<string | undefined, E, R>
): Effect.Effect<Change<CloudWatchError | E, CloudWatch | R>, CloudWatchError | E, CloudWatch | R> =>
  Effect.gen(function*() {
    const name = dashboardName(options.prefix)
    const url = consoleUrl(name, options.location)
    const uuid = yield* mappingUuid
    if (uuid === undefined) {
      const later = mappingUuid.pipe(
        Effect.flatMap((found) => found === undefined ? Effect.die(new Error("the stream mapping is missing after the mapping step")) : Effect.succeed(found))
      )
      return change({ action: "created", resource: name, detail: `once the stream mapping exists; ${url}` }, applied(decide(options, later)))
    }
    const wanted = body(options, uuid)
    const current = yield* stored(name)
    if (current === undefined) return change({ action: "created", resource: name, detail: url }, put(name, wanted, "created", url))
    if (!carriesMarker(current, options.owner)) {
      return noChange({ action: "kept", resource: name, detail: `a dashboard of that name that provision did not make (no ${marker(options.owner)} in it)` })
    }
    const now = decodeJson(current)
    if (Option.isSome(now) && isDeepStrictEqual(now, decodeJson(JSON.stringify(wanted)))) return noChange({ action: "unchanged", resource: name, detail: url })
    return change({ action: "updated", resource: name, detail: url }, put(name, wanted, "updated", url))
  }).pipe(Effect.withSpan("Dashboard.decide"))

/** `decide` as a provisioning step. */
export const step = <E, R>(options: Options, mappingUuid: Effect.Effect<string | undefined, E, R>): Step<CloudWatchError | E, CloudWatch | R> => ({
  title: `dashboard ${dashboardName(options.prefix)}`,
  decide: decide(options, mappingUuid)
})

/** Decides what teardown does about the dashboard: deletes it only when it carries our marker. */
export const decideRemove = (prefix: string, owner: OwnerTag): Effect.Effect<Change<CloudWatchError, CloudWatch>, CloudWatchError, CloudWatch> =>
  Effect.gen(function*() {
    const name = dashboardName(prefix)
    const current = yield* stored(name)
    if (current === undefined) return noChange({ action: "unchanged", resource: name, detail: "not there" })
    if (!carriesMarker(current, owner)) return noChange({ action: "kept", resource: name, detail: `provision did not make it (no ${marker(owner)} in it)` })
    return change(
      { action: "deleted", resource: name },
      call("DeleteDashboards", (c) => c.send(new DeleteDashboardsCommand({ DashboardNames: [name] }))).pipe(
        Effect.as({ action: "deleted", resource: name } satisfies Outcome)
      )
    )
  }).pipe(Effect.withSpan("Dashboard.decideRemove"))

/** `decideRemove` as a teardown step. */
export const removeStep = (prefix: string, owner: OwnerTag): Step<CloudWatchError, CloudWatch> => ({
  title: `dashboard ${dashboardName(prefix)}`,
  decide: decideRemove(prefix, owner)
})
