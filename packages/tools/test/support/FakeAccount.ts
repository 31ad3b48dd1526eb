/**
 * The one pretend AWS account every service's fake works on: its id, region and credentials, the ARNs
 * of its resources, the resources themselves (held once, so Lambda sees the roles IAM made and the
 * streams DynamoDB enabled), and the faults a test injects. `FakeAws` installs the services over it.
 */
import type { MetricAlarm } from "@aws-sdk/client-cloudwatch"
import type { LogGroup } from "@aws-sdk/client-cloudwatch-logs"
import type { TableDescription } from "@aws-sdk/client-dynamodb"
import type { Tag } from "@aws-sdk/client-iam"
import type { EventSourceMappingConfiguration, FunctionConfiguration } from "@aws-sdk/client-lambda"

export const REGION = "eu-west-1"
export const ACCOUNT = "123456789012"
export const credentials = { accessKeyId: "AKIAFAKEFAKEFAKE", secretAccessKey: "fake" }

export const tableArn = (name: string) => `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${name}`
export const roleArn = (path: string) => `arn:aws:iam::${ACCOUNT}:role/${path}`
export const functionArn = (name: string) => `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}`
export const mappingArn = (uuid: string) => `arn:aws:lambda:${REGION}:${ACCOUNT}:event-source-mapping:${uuid}`
export const alarmArn = (name: string) => `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:${name}`
export const logGroupArn = (name: string) => `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${name}`

/** What the SDK's default chain throws when it finds no credentials anywhere. */
export const noCredentials = () =>
  Object.assign(new Error("Could not load credentials from any providers"), { name: "CredentialsProviderError" })

/** The metadata of a 400 answer, as the SDK's exceptions carry it. */
export const meta = { $metadata: { httpStatusCode: 400 } }

/** Pages of two: enough to make any caller that reads only the first page miss something. */
export const PAGE_SIZE = 2

/** Errors a test makes the account's commands reject with, by command name (`PutRolePolicy`). */
export interface Faults {
  /** The command's next calls reject with these errors, in order, before it behaves again. */
  readonly failNext: (command: string, ...errors: ReadonlyArray<Error>) => void
  /** Every later call of the command rejects with what `error` makes. */
  readonly failAlways: (command: string, error: () => Error) => void
  /** Called first by every modelled command: throws the error a test injected for it, if any. */
  readonly injected: (command: string) => void
}

export const faults = (): Faults => {
  const next = new Map<string, Array<Error>>()
  const always = new Map<string, () => Error>()
  return {
    failNext: (command, ...errors) => {
      next.set(command, [...(next.get(command) ?? []), ...errors])
    },
    failAlways: (command, error) => {
      always.set(command, error)
    },
    injected: (command) => {
      const error = always.get(command)?.() ?? next.get(command)?.shift()
      if (error !== undefined) throw error
    }
  }
}

/** A role as IAM holds it: the trust policy as a JSON document. */
export interface Role {
  readonly arn: string
  readonly trust: string
  readonly tags: ReadonlyArray<Tag>
}

/** A mapping, and how many more GetEventSourceMapping polls it stays in its passing state. */
export type Mapping = EventSourceMappingConfiguration & { polls: number }

/** What an invocation of a function answers: its result, or with `functionError` what it threw. */
export interface Invocation {
  readonly payload: unknown
  readonly functionError?: string
}

/** The account's resources, by service, and the faults injected into its commands. */
export interface Account extends Faults {
  readonly tables: Map<string, TableDescription>
  /** By table ARN. */
  readonly tableTags: Map<string, Record<string, string>>
  /** The TTL attribute, by table name. */
  readonly timeToLive: Map<string, string>
  /** How many items a table holds (only whether it holds any is modelled). */
  readonly itemCounts: Map<string, number>
  /** By backup ARN: its table, and how many more DescribeBackup polls it stays CREATING. */
  readonly backups: Map<string, { table: string; polls: number }>
  /** A table's next stream ARN: each stream enabled in the account gets a new one. */
  readonly newStreamArn: (table: string) => string
  /** By role name. */
  readonly roles: Map<string, Role>
  /** Inline policy documents, by `role/policy`. */
  readonly policies: Map<string, string>
  readonly functions: Map<string, FunctionConfiguration>
  readonly functionTags: Map<string, Record<string, string>>
  /** Published versions, by function name. */
  readonly versions: Map<string, Array<{ Version: string; Description: string; CodeSha256: string }>>
  /** By UUID. */
  readonly mappings: Map<string, Mapping>
  /** By mapping ARN. */
  readonly mappingTags: Map<string, Record<string, string>>
  /** A deleted mapping leaves the list at once but is Deleting for one GetEventSourceMapping before it is gone. */
  readonly deleting: Map<string, Mapping>
  /** CloudWatch metric alarms, by name. */
  readonly alarms: Map<string, MetricAlarm>
  /** By alarm ARN. */
  readonly alarmTags: Map<string, Record<string, string>>
  /** Dashboard bodies (JSON text), by name. */
  readonly dashboards: Map<string, string>
  /** CloudWatch Logs groups, by name. */
  readonly logGroups: Map<string, LogGroup>
  /** By log group name. */
  readonly logGroupTags: Map<string, Record<string, string>>
  /** What every later Invoke answers (by default `null`, as a handler that returns nothing). */
  readonly answer: (next: Invocation) => void
  /** What an Invoke answers now. */
  readonly invocation: () => Invocation
}

/** An account holding nothing, with no faults injected. */
export const empty = (): Account => {
  let streams = 0
  let invocation: Invocation = { payload: null }
  return {
    tables: new Map(),
    tableTags: new Map(),
    timeToLive: new Map(),
    itemCounts: new Map(),
    backups: new Map(),
    newStreamArn: (table) => `${tableArn(table)}/stream/2026-01-01T00:00:00.${String(++streams).padStart(3, "0")}`,
    roles: new Map(),
    policies: new Map(),
    functions: new Map(),
    functionTags: new Map(),
    versions: new Map(),
    mappings: new Map(),
    mappingTags: new Map(),
    deleting: new Map(),
    alarms: new Map(),
    alarmTags: new Map(),
    dashboards: new Map(),
    logGroups: new Map(),
    logGroupTags: new Map(),
    answer: (next) => {
      invocation = next
    },
    invocation: () => invocation,
    ...faults()
  }
}
