/**
 * The deployment's CloudWatch alarms, on the pretend account: each put exactly as defined and tagged as
 * ours, unchanged on a second run, updated when a threshold or the topic changes, an alarm of our name
 * that someone else made kept, teardown deleting only ours, and a plan that sends nothing that changes.
 */
import { DeleteAlarmsCommand, PutMetricAlarmCommand } from "@aws-sdk/client-cloudwatch"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import { assert, describe, it } from "vitest"
import * as Deployment from "@dyna/aws/Deployment"
import * as Alarms from "../src/provision/Alarms.js"
import * as FakeAws from "./support/FakeAws.js"
import * as RunSteps from "./support/RunSteps.js"

const FUNCTION = "JAM_Lambda_Exec_Function_EDIT_THIS"
const UUID = "14e0db71-0000-4000-8000-000000000000"
const owner = Deployment.ownerTag("", FakeAws.REGION)
const options: Alarms.Options = { prefix: "", functionName: FUNCTION, owner, thresholds: Alarms.defaultThresholds }
const steps = (o: Alarms.Options = options) => Alarms.steps(o, Effect.succeed(UUID))
const mutating = () => RunSteps.sent().filter((name) => RunSteps.mutating.test(name))
const byFunction = [{ Name: "FunctionName", Value: FUNCTION }]
const common = { ActionsEnabled: true, AlarmActions: [], OKActions: [], TreatMissingData: "notBreaching" }
const everyFiveMinutes = {
  Statistic: "Sum",
  Period: 300,
  EvaluationPeriods: 1,
  DatapointsToAlarm: 1,
  ComparisonOperator: "GreaterThanOrEqualToThreshold"
} as const
const tags = [{ Key: "dyna-elite", Value: `${FakeAws.REGION}/` }]

describe("the alarms", () => {
  it("puts each alarm exactly as defined, tagged as ours", async () => {
    FakeAws.account()

    const { outcomes } = await RunSteps.succeeded(steps(), { yes: true })

    assert.deepStrictEqual(outcomes.map((o) => [o.action, o.resource]), Alarms.KINDS.map((k) => ["created", `DynaElite-${k}`]))
    assert.deepStrictEqual(FakeAws.cloudWatch.commandCalls(PutMetricAlarmCommand).map((c) => c.args[0].input), [
      {
        ...common,
        AlarmName: "DynaElite-behind",
        AlarmDescription: `The pipeline is behind: the oldest record handed to ${FUNCTION} was more than 60 s old (IteratorAge maximum) ` +
          "every minute for 5 minutes. Purchases reach profiles late; see the dashboard and pnpm status.",
        Namespace: "AWS/Lambda",
        MetricName: "IteratorAge",
        Dimensions: byFunction,
        Statistic: "Maximum",
        Period: 60,
        EvaluationPeriods: 5,
        DatapointsToAlarm: 5,
        Threshold: 60_000,
        ComparisonOperator: "GreaterThanThreshold",
        Unit: "Milliseconds",
        Tags: tags
      },
      {
        ...common,
        AlarmName: "DynaElite-errors",
        AlarmDescription: `Whole batches are failing: ${FUNCTION} failed 1 or more invocation(s) in 5 minutes (Errors). ` +
          "Lambda retries and bisects the batch, then gives it up to the on-failure bucket; read the function's log.",
        Namespace: "AWS/Lambda",
        MetricName: "Errors",
        Dimensions: byFunction,
        ...everyFiveMinutes,
        Threshold: 1,
        Tags: tags
      },
      {
        ...common,
        AlarmName: "DynaElite-quarantined",
        AlarmDescription: "1 or more record(s) were quarantined in 5 minutes (DynaElite Quarantined): they were not counted. " +
          "pnpm status lists them; fix the row and pnpm replay it.",
        Namespace: "DynaElite",
        MetricName: "Quarantined",
        Dimensions: byFunction,
        ...everyFiveMinutes,
        Threshold: 1,
        Tags: tags
      },
      {
        ...common,
        AlarmName: "DynaElite-given-up",
        AlarmDescription: "Lambda gave up on 1 or more record(s) in 5 minutes and sent their batches to the on-failure bucket " +
          "(OnFailureDestinationDeliveredEventCount): they were not counted. pnpm replay puts them through again.",
        Namespace: "AWS/Lambda",
        MetricName: "OnFailureDestinationDeliveredEventCount",
        Dimensions: [{ Name: "EventSourceMappingUUID", Value: UUID }],
        ...everyFiveMinutes,
        Threshold: 1,
        Tags: tags
      },
      {
        ...common,
        AlarmName: "DynaElite-throttles",
        AlarmDescription: `Lambda throttled 1 or more invocation(s) of ${FUNCTION} in 5 minutes (Throttles): ` +
          "the account's or the function's concurrency is used up, and the pipeline falls behind.",
        Namespace: "AWS/Lambda",
        MetricName: "Throttles",
        Dimensions: byFunction,
        ...everyFiveMinutes,
        Threshold: 1,
        Tags: tags
      }
    ])
  })

  it("changes nothing on a second run: only reads are sent", async () => {
    FakeAws.account()
    await RunSteps.succeeded(steps(), { yes: true })
    RunSteps.forgetRequests()

    const { outcomes } = await RunSteps.succeeded(steps(), { yes: true })

    assert.deepStrictEqual(outcomes.map((o) => o.action), Array(5).fill("unchanged"))
    assert.isNotEmpty(RunSteps.sent())
    assert.deepStrictEqual(mutating(), [])
  })

  it("updates the alarms whose threshold or topic changed, and keeps their tags", async () => {
    const account = FakeAws.account()
    await RunSteps.succeeded(steps(), { yes: true })
    RunSteps.forgetRequests()
    const thresholds = Result.getOrThrow(Alarms.parseThresholds(["iterator-age=120", "errors=3"]))
    const topic = `arn:aws:sns:${FakeAws.REGION}:${FakeAws.ACCOUNT}:ops`

    const { outcomes } = await RunSteps.succeeded(steps({ ...options, thresholds }), { yes: true })
    const withTopic = await RunSteps.succeeded(steps({ ...options, thresholds, topic }), { yes: true })

    assert.deepStrictEqual(outcomes.map((o) => [o.action, o.detail]), [
      ["updated", "AlarmDescription, Threshold"],
      ["updated", "AlarmDescription, Threshold"],
      ["unchanged", "DynaElite Quarantined Sum ≥ 1 over 300 s × 1, no topic"],
      ["unchanged", `AWS/Lambda OnFailureDestinationDeliveredEventCount Sum ≥ 1 over 300 s × 1, no topic`],
      ["unchanged", "AWS/Lambda Throttles Sum ≥ 1 over 300 s × 1, no topic"]
    ])
    assert.deepStrictEqual(withTopic.outcomes.map((o) => o.detail), Array(5).fill("AlarmActions, OKActions"))
    assert.deepStrictEqual(account.alarms.get("DynaElite-behind")?.Threshold, 120_000)
    assert.deepStrictEqual(account.alarms.get("DynaElite-throttles")?.AlarmActions, [topic])
    // Tags are sent only when an alarm is created.
    assert.isTrue(FakeAws.cloudWatch.commandCalls(PutMetricAlarmCommand).every((c) => c.args[0].input.Tags === undefined))
    assert.deepStrictEqual(account.alarmTags.get(FakeAws.alarmArn("DynaElite-behind")), { "dyna-elite": `${FakeAws.REGION}/` })
  })

  it("keeps an alarm of our name that someone else made, and teardown deletes only ours", async () => {
    const theirs = { AlarmName: "DynaElite-errors", Namespace: "AWS/Lambda", MetricName: "Errors", Threshold: 50 }
    const account = FakeAws.account({ alarms: [{ alarm: theirs, tags: { team: "payments" } }] })

    const { outcomes } = await RunSteps.succeeded(steps(), { yes: true })
    const removed = await RunSteps.succeeded(Alarms.removeSteps("", owner), { yes: true })

    assert.deepInclude(outcomes[1], { action: "kept", resource: "DynaElite-errors" })
    assert.strictEqual(account.alarms.get("DynaElite-errors")?.Threshold, 50)
    assert.deepStrictEqual(removed.outcomes.map((o) => o.action), ["deleted", "kept", "deleted", "deleted", "deleted"])
    assert.deepStrictEqual(
      FakeAws.cloudWatch.commandCalls(DeleteAlarmsCommand).map((c) => c.args[0].input.AlarmNames),
      [["DynaElite-behind"], ["DynaElite-quarantined"], ["DynaElite-given-up"], ["DynaElite-throttles"]]
    )
    assert.deepStrictEqual([...account.alarms.keys()], ["DynaElite-errors"])
    const again = await RunSteps.succeeded(Alarms.removeSteps("", owner), { yes: true })
    assert.deepStrictEqual(again.outcomes.map((o) => o.action), ["unchanged", "kept", "unchanged", "unchanged", "unchanged"])
  })

  it("plans without changing anything, the given-up alarm once the mapping exists", async () => {
    FakeAws.account()

    const { outcomes } = await RunSteps.succeeded(Alarms.steps(options, Effect.succeed(undefined)), { mode: "plan" })

    assert.deepStrictEqual(mutating(), [])
    assert.deepInclude(outcomes[3], { action: "created", resource: "DynaElite-given-up", detail: "once the stream mapping exists" })
  })
})

describe("--alarm-threshold", () => {
  it("changes the thresholds it names and refuses what it does not know", () => {
    assert.deepStrictEqual(Alarms.parseThresholds(["given-up=5", "throttles=10"]), Result.succeed({ ...Alarms.defaultThresholds, givenUp: 5, throttles: 10 }))
    assert.deepStrictEqual(Alarms.parseThresholds([]), Result.succeed(Alarms.defaultThresholds))
    for (const bad of ["latency=5", "errors=0", "errors=1.5", "errors", "errors=2=3"]) assert.isTrue(Result.isFailure(Alarms.parseThresholds([bad])), bad)
  })
})
