/**
 * CloudWatch Logs in the pretend account: log groups (created with tags, described by prefix two to a
 * page, given a retention, deleted) and their tags, as the real SDK client sends them, `send` mocked by
 * aws-sdk-client-mock. A group Lambda made on a function's first run is a seeded group without tags.
 */
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  type CreateLogGroupCommandInput,
  DeleteLogGroupCommand,
  type DeleteLogGroupCommandInput,
  DescribeLogGroupsCommand,
  type DescribeLogGroupsCommandInput,
  ListTagsForResourceCommand,
  type ListTagsForResourceCommandInput,
  PutRetentionPolicyCommand,
  type PutRetentionPolicyCommandInput,
  ResourceAlreadyExistsException,
  ResourceNotFoundException
} from "@aws-sdk/client-cloudwatch-logs"
import { mockClient } from "aws-sdk-client-mock"
import * as Layer from "effect/Layer"
import { CloudWatchLogs } from "../../src/clients/CloudWatchLogs.js"
import { type Account, credentials, logGroupArn, meta, PAGE_SIZE, REGION } from "./FakeAccount.js"

// Mocked once per test file, on the client class: any CloudWatch Logs client built anywhere is mocked, none reaches AWS.
export const logs = mockClient(CloudWatchLogsClient)

/** Our CloudWatch Logs service over a real SDK client (mocked above), as the AWS target builds it. */
export const service = Layer.succeed(CloudWatchLogs, CloudWatchLogs.fromClient(new CloudWatchLogsClient({ region: REGION, credentials })))

/** A log group already there: Lambda's (no tags), or one as a test wants it found. */
export interface LogGroupSeed {
  readonly name: string
  readonly retentionInDays?: number
  /** Epoch milliseconds; by default the epoch (an old group). */
  readonly creationTime?: number
  readonly storedBytes?: number
  readonly tags?: Record<string, string>
}

const group = (name: string, creationTime: number, storedBytes: number, retentionInDays?: number) => ({
  logGroupName: name,
  logGroupArn: logGroupArn(name),
  arn: `${logGroupArn(name)}:*`,
  creationTime,
  storedBytes,
  ...(retentionInDays === undefined ? {} : { retentionInDays })
})

/** Puts the log groups in the account. */
export const seed = (account: Account, groups: ReadonlyArray<LogGroupSeed>) => {
  for (const g of groups) {
    account.logGroups.set(g.name, group(g.name, g.creationTime ?? 0, g.storedBytes ?? 0, g.retentionInDays))
    if (g.tags !== undefined) account.logGroupTags.set(g.name, g.tags)
  }
}

const notFound = (name: string) => new ResourceNotFoundException({ message: `The specified log group does not exist: ${name}`, ...meta })

/** Resets the mock and answers CloudWatch Logs' log group commands from the account. */
export const install = (account: Account) => {
  const { logGroups, logGroupTags, injected } = account
  logs.reset()
  logs.onAnyCommand().rejects(new Error("the fake account does not model this CloudWatch Logs command"))
  logs.on(DescribeLogGroupsCommand).callsFake(async (input: DescribeLogGroupsCommandInput) => {
    injected("DescribeLogGroups")
    const all = [...logGroups.values()].filter((g) => (g.logGroupName ?? "").startsWith(input.logGroupNamePrefix ?? ""))
      .sort((a, b) => (a.logGroupName ?? "").localeCompare(b.logGroupName ?? ""))
    const start = Number(input.nextToken ?? "0")
    const more = start + PAGE_SIZE < all.length
    return { logGroups: all.slice(start, start + PAGE_SIZE), ...(more ? { nextToken: String(start + PAGE_SIZE) } : {}) }
  })
  logs.on(CreateLogGroupCommand).callsFake(async (input: CreateLogGroupCommandInput) => {
    injected("CreateLogGroup")
    const name = input.logGroupName ?? ""
    if (logGroups.has(name)) throw new ResourceAlreadyExistsException({ message: "The specified log group already exists", ...meta })
    logGroups.set(name, group(name, 1, 0))
    if (input.tags !== undefined) logGroupTags.set(name, input.tags)
    return {}
  })
  logs.on(PutRetentionPolicyCommand).callsFake(async (input: PutRetentionPolicyCommandInput) => {
    injected("PutRetentionPolicy")
    const name = input.logGroupName ?? ""
    const current = logGroups.get(name)
    if (current === undefined) throw notFound(name)
    logGroups.set(name, { ...current, retentionInDays: input.retentionInDays })
    return {}
  })
  logs.on(ListTagsForResourceCommand).callsFake(async (input: ListTagsForResourceCommandInput) => {
    injected("ListTagsForResource")
    const name = [...logGroups.values()].find((g) => g.logGroupArn === input.resourceArn)?.logGroupName
    if (name === undefined) throw notFound(input.resourceArn ?? "")
    return { tags: logGroupTags.get(name) ?? {} }
  })
  logs.on(DeleteLogGroupCommand).callsFake(async (input: DeleteLogGroupCommandInput) => {
    injected("DeleteLogGroup")
    const name = input.logGroupName ?? ""
    if (!logGroups.delete(name)) throw notFound(name)
    logGroupTags.delete(name)
    return {}
  })
}
