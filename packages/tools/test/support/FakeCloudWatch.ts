/**
 * CloudWatch in the pretend account: metric alarms (put, described by name, tagged at creation, deleted)
 * and dashboards (put, got, deleted), as the real SDK client sends them, `send` mocked by
 * aws-sdk-client-mock. Answers and faults are CloudWatch's own: a missing dashboard is its
 * `DashboardNotFoundError`, a missing alarm's tags its `ResourceNotFoundException`.
 */
import {
  CloudWatchClient,
  DashboardNotFoundError,
  DeleteAlarmsCommand,
  type DeleteAlarmsCommandInput,
  DeleteDashboardsCommand,
  type DeleteDashboardsCommandInput,
  DescribeAlarmsCommand,
  type DescribeAlarmsCommandInput,
  GetDashboardCommand,
  type GetDashboardCommandInput,
  ListTagsForResourceCommand,
  type ListTagsForResourceCommandInput,
  type MetricAlarm,
  PutDashboardCommand,
  type PutDashboardCommandInput,
  PutMetricAlarmCommand,
  type PutMetricAlarmCommandInput,
  ResourceNotFoundException
} from "@aws-sdk/client-cloudwatch"
import { mockClient } from "aws-sdk-client-mock"
import * as Layer from "effect/Layer"
import { CloudWatch } from "../../src/clients/CloudWatch.js"
import { type Account, ACCOUNT, alarmArn, credentials, meta, REGION } from "./FakeAccount.js"

// Mocked once per test file, on the client class: any CloudWatch client built anywhere is mocked, none reaches AWS.
export const cloudWatch = mockClient(CloudWatchClient)

/** Our CloudWatch service over a real SDK client (mocked above), as the AWS target builds it. */
export const service = Layer.succeed(CloudWatch, CloudWatch.fromClient(new CloudWatchClient({ region: REGION, credentials })))

/** An alarm someone else made, or one of ours as a test wants it to be found. */
export interface AlarmSeed {
  readonly alarm: MetricAlarm & { readonly AlarmName: string }
  readonly tags?: Record<string, string>
}

/** Puts the alarms and dashboards (name → body) in the account. */
export const seed = (account: Account, alarms: ReadonlyArray<AlarmSeed>, dashboards: Readonly<Record<string, string>>) => {
  for (const { alarm, tags } of alarms) {
    const arn = alarmArn(alarm.AlarmName)
    account.alarms.set(alarm.AlarmName, { ...alarm, AlarmArn: arn })
    if (tags !== undefined) account.alarmTags.set(arn, tags)
  }
  for (const [name, body] of Object.entries(dashboards)) account.dashboards.set(name, body)
}

/** An alarm as DescribeAlarms returns what PutMetricAlarm was given (its tags are not part of it). */
const stored = ({ Tags: _, Metrics: __, ...input }: PutMetricAlarmCommandInput): MetricAlarm => ({
  ...input,
  AlarmArn: alarmArn(input.AlarmName ?? ""),
  StateValue: "INSUFFICIENT_DATA"
})

/** Resets the mock and answers CloudWatch's alarm and dashboard commands from the account. */
export const install = (account: Account) => {
  const { alarms, alarmTags, dashboards, injected } = account
  cloudWatch.reset()
  cloudWatch.onAnyCommand().rejects(new Error("the fake account does not model this CloudWatch command"))
  cloudWatch.on(DescribeAlarmsCommand).callsFake(async (input: DescribeAlarmsCommandInput) => {
    injected("DescribeAlarms")
    const names = input.AlarmNames ?? [...alarms.keys()]
    return { MetricAlarms: names.flatMap((n) => alarms.get(n) ?? []), CompositeAlarms: [] }
  })
  cloudWatch.on(PutMetricAlarmCommand).callsFake(async (input: PutMetricAlarmCommandInput) => {
    injected("PutMetricAlarm")
    const name = input.AlarmName ?? ""
    const arn = alarmArn(name)
    // As CloudWatch does: tags are taken when the alarm is created, ignored when it is updated.
    if (!alarms.has(name) && input.Tags !== undefined) {
      alarmTags.set(arn, Object.fromEntries(input.Tags.map((t) => [t.Key ?? "", t.Value ?? ""])))
    }
    alarms.set(name, stored(input))
    return {}
  })
  cloudWatch.on(ListTagsForResourceCommand).callsFake(async (input: ListTagsForResourceCommandInput) => {
    injected("ListTagsForResource")
    const arn = input.ResourceARN ?? ""
    if (![...alarms.values()].some((a) => a.AlarmArn === arn)) {
      throw new ResourceNotFoundException({ message: `Alarm ${arn} not found`, ...meta })
    }
    return { Tags: Object.entries(alarmTags.get(arn) ?? {}).map(([Key, Value]) => ({ Key, Value })) }
  })
  cloudWatch.on(DeleteAlarmsCommand).callsFake(async (input: DeleteAlarmsCommandInput) => {
    injected("DeleteAlarms")
    for (const name of input.AlarmNames ?? []) {
      alarms.delete(name)
      alarmTags.delete(alarmArn(name))
    }
    return {}
  })
  cloudWatch.on(GetDashboardCommand).callsFake(async (input: GetDashboardCommandInput) => {
    injected("GetDashboard")
    const name = input.DashboardName ?? ""
    const body = dashboards.get(name)
    if (body === undefined) throw new DashboardNotFoundError({ message: "Dashboard does not exist", ...meta })
    return { DashboardName: name, DashboardBody: body, DashboardArn: `arn:aws:cloudwatch::${ACCOUNT}:dashboard/${name}` }
  })
  cloudWatch.on(PutDashboardCommand).callsFake(async (input: PutDashboardCommandInput) => {
    injected("PutDashboard")
    dashboards.set(input.DashboardName ?? "", input.DashboardBody ?? "")
    return { DashboardValidationMessages: [] }
  })
  cloudWatch.on(DeleteDashboardsCommand).callsFake(async (input: DeleteDashboardsCommandInput) => {
    injected("DeleteDashboards")
    const names = input.DashboardNames ?? []
    if (names.some((n) => !dashboards.has(n))) throw new DashboardNotFoundError({ message: "Dashboard does not exist", ...meta })
    for (const name of names) dashboards.delete(name)
    return {}
  })
}
