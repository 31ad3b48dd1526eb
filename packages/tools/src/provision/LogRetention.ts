/**
 * The function's log group, `/aws/lambda/<function>`, with a retention (30 days unless
 * `--log-retention-days` says otherwise) instead of CloudWatch Logs' "never expire". Lambda creates the
 * group on the function's first run, so provision creates it first when it is missing, tagged as ours;
 * teardown deletes it only when it carries our tag.
 */
import {
  type CloudWatchLogsClient,
  CreateLogGroupCommand,
  DeleteLogGroupCommand,
  type LogGroup,
  ListTagsForResourceCommand,
  paginateDescribeLogGroups,
  PutRetentionPolicyCommand
} from "@aws-sdk/client-cloudwatch-logs"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import { isOwnedBy, type OwnerTag } from "@dyna/aws/Deployment"
import * as Retry from "@dyna/aws/Retry"
import { CloudWatchLogs, type CloudWatchLogsError } from "../clients/CloudWatchLogs.js"
import { type Change, change, noChange, type Outcome, type Step } from "./Step.js"

/** A month of the function's logs: long enough to look into an incident noticed late, not kept for ever. */
export const DEFAULT_RETENTION_DAYS = 30

/** The only retentions CloudWatch Logs accepts (PutRetentionPolicy's `retentionInDays`). */
export const RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const

/** `--log-retention-days`: one of `RETENTION_DAYS`, or the sentence that says it is not. */
export const checkDays = (text: string | undefined, fallback: number = DEFAULT_RETENTION_DAYS): Result.Result<number, string> => {
  if (text === undefined) return Result.succeed(fallback)
  const n = /^\d+$/.test(text) ? Number(text) : Number.NaN
  return RETENTION_DAYS.some((d) => d === n)
    ? Result.succeed(n)
    : Result.fail(`--log-retention-days must be one of the values CloudWatch Logs accepts (${RETENTION_DAYS.join(", ")}), not ${JSON.stringify(text)}`)
}

/** Where Lambda writes the function's logs. */
export const logGroupName = (functionName: string): string => `/aws/lambda/${functionName}`

const DAY_MILLIS = 24 * 60 * 60 * 1000

const call = <A>(operation: string, f: (client: CloudWatchLogsClient) => Promise<A>) =>
  Effect.flatMap(CloudWatchLogs, (logs) => Retry.onTransient(logs.call(operation, f)))

/** The log group of that exact name, if there is one (DescribeLogGroups by prefix, all pages). */
export const describe = (name: string) =>
  call("DescribeLogGroups", async (client) => {
    for await (const page of paginateDescribeLogGroups({ client }, { logGroupNamePrefix: name })) {
      const found = page.logGroups?.find((g) => g.logGroupName === name)
      if (found !== undefined) return found
    }
    return undefined
  })

/** Whether this deployment's provision created the group: it carries our owner tag. */
const isOurs = (group: LogGroup, owner: OwnerTag) =>
  // `logGroupArn` is the group's own ARN; `arn` ends in `:*` (its streams), which ListTagsForResource refuses.
  group.logGroupArn === undefined
    ? Effect.succeed(false)
    : call("ListTagsForResource", (c) => c.send(new ListTagsForResourceCommand({ resourceArn: group.logGroupArn }))).pipe(
      Effect.map((out) => isOwnedBy(owner, out.tags))
    )

const retain = (name: string, days: number) =>
  call("PutRetentionPolicy", (c) => c.send(new PutRetentionPolicyCommand({ logGroupName: name, retentionInDays: days })))

const kept = (days: number | undefined) => (days === undefined ? "never expire" : `${days} days`)

/**
 * Decides (DescribeLogGroups and ListTagsForResource only) what provision does about the function's log
 * group: creates it, tagged and with the retention, when missing; sets the retention when it differs.
 * Shortening the retention of a group provision did not create (the Jam's function's, or one Lambda made
 * before) deletes its older events: that is a risk a person agrees to, unless the group is too young to hold any.
 */
export const decide = (
  functionName: string,
  owner: OwnerTag,
  days: number = DEFAULT_RETENTION_DAYS
): Effect.Effect<Change<CloudWatchLogsError, CloudWatchLogs>, CloudWatchLogsError, CloudWatchLogs> =>
  Effect.gen(function*() {
    const name = logGroupName(functionName)
    const group = yield* describe(name)
    if (group === undefined) {
      return change(
        { action: "created", resource: name, detail: `events expire after ${days} days` },
        Effect.gen(function*() {
          yield* call("CreateLogGroup", (c) => c.send(new CreateLogGroupCommand({ logGroupName: name, tags: { [owner.key]: owner.value } }))).pipe(
            // The function ran meanwhile and Lambda made the group: the retention is still ours to set.
            Effect.catchTag("CloudWatchLogsError", (e) => (e.kind === "Conflict" ? Effect.void : Effect.fail(e)))
          )
          yield* retain(name, days)
          return { action: "created", resource: name, detail: `events expire after ${days} days` } satisfies Outcome
        })
      )
    }
    const current = group.retentionInDays
    if (current === days) return noChange({ action: "unchanged", resource: name, detail: `events expire after ${days} days` })
    const detail = `events expire after ${days} days (were: ${kept(current)})`
    const shorter = current === undefined || current > days
    const age = (yield* Clock.currentTimeMillis) - (group.creationTime ?? 0)
    const risky = shorter && age > days * DAY_MILLIS && !(yield* isOurs(group, owner))
    return change(
      {
        action: "updated",
        resource: name,
        detail,
        risk: risky
          ? `deletes the log events older than ${days} days from ${name} (${group.storedBytes ?? 0} bytes stored now), which provision did not create`
          : undefined
      },
      retain(name, days).pipe(Effect.as({ action: "updated", resource: name, detail } satisfies Outcome))
    )
  }).pipe(Effect.withSpan("LogRetention.decide"))

/** `decide` as a provisioning step. */
export const step = (functionName: string, owner: OwnerTag, days: number = DEFAULT_RETENTION_DAYS): Step<CloudWatchLogsError, CloudWatchLogs> => ({
  title: `log group of ${functionName}`,
  decide: decide(functionName, owner, days)
})

/** Decides what teardown does about the function's log group: deletes it, with its events, only when it carries our owner tag. */
export const decideRemove = (functionName: string, owner: OwnerTag): Effect.Effect<Change<CloudWatchLogsError, CloudWatchLogs>, CloudWatchLogsError, CloudWatchLogs> =>
  Effect.gen(function*() {
    const name = logGroupName(functionName)
    const group = yield* describe(name)
    if (group === undefined) return noChange({ action: "unchanged", resource: name, detail: "not there" })
    if (!(yield* isOurs(group, owner))) return noChange({ action: "kept", resource: name, detail: "provision did not create it (no owner tag)" })
    const detail = `with its ${group.storedBytes ?? 0} bytes of log events`
    return change(
      { action: "deleted", resource: name, detail },
      call("DeleteLogGroup", (c) => c.send(new DeleteLogGroupCommand({ logGroupName: name }))).pipe(
        Effect.catchTag("CloudWatchLogsError", (e) => (e.kind === "NotFound" ? Effect.void : Effect.fail(e))),
        Effect.as({ action: "deleted", resource: name, detail } satisfies Outcome)
      )
    )
  }).pipe(Effect.withSpan("LogRetention.decideRemove"))

/** `decideRemove` as a teardown step. */
export const removeStep = (functionName: string, owner: OwnerTag): Step<CloudWatchLogsError, CloudWatchLogs> => ({
  title: `log group of ${functionName}`,
  decide: decideRemove(functionName, owner)
})
