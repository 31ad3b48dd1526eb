/**
 * DynamoDB's control plane in the pretend account: tables come up ACTIVE at once, each enabled stream
 * gets a new ARN, a backup is CREATING for one poll and holds its table meanwhile; tags, TTL, and a Scan
 * that counts the items a table was seeded with. The data plane is DynamoDB Local's, never faked here.
 */
import {
  CreateBackupCommand,
  type CreateBackupCommandInput,
  CreateTableCommand,
  type CreateTableCommandInput,
  DeleteTableCommand,
  type DeleteTableCommandInput,
  DescribeBackupCommand,
  type DescribeBackupCommandInput,
  DescribeTableCommand,
  type DescribeTableCommandInput,
  DescribeTimeToLiveCommand,
  type DescribeTimeToLiveCommandInput,
  DynamoDBClient,
  DynamoDBServiceException,
  type KeySchemaElement,
  ListTagsOfResourceCommand,
  type ListTagsOfResourceCommandInput,
  ResourceNotFoundException,
  ScanCommand,
  type ScanCommandInput,
  type StreamViewType,
  type TableDescription,
  UpdateTableCommand,
  type UpdateTableCommandInput,
  UpdateTimeToLiveCommand,
  type UpdateTimeToLiveCommandInput
} from "@aws-sdk/client-dynamodb"
import { mockClient } from "aws-sdk-client-mock"
import * as Layer from "effect/Layer"
import { DynamoDb } from "@dyna/aws/DynamoDb"
import { type Account, credentials, meta, REGION, tableArn } from "./FakeAccount.js"

// Mocked once per test file, on the client class: any DynamoDB client built anywhere is mocked, none reaches AWS.
export const dynamo = mockClient(DynamoDBClient)

/** Our DynamoDb service over a real SDK client (mocked above), as the AWS target builds it. */
export const service = Layer.succeed(
  DynamoDb,
  DynamoDb.fromClient(new DynamoDBClient({ region: REGION, credentials }), `https://dynamodb.${REGION}.amazonaws.com`)
)

export interface TableSeed {
  readonly name: string
  readonly tags?: Record<string, string>
  /** How many items it holds (only whether it holds any is modelled). */
  readonly items?: number
  readonly keySchema?: ReadonlyArray<KeySchemaElement>
  readonly stream?: StreamViewType
}

/** The Jam's and our key schema for CustTransactions differ; any is adopted as it is. */
const defaultKeys: ReadonlyArray<KeySchemaElement> = [{ AttributeName: "CustID", KeyType: "HASH" }]

/** Puts the tables in the account, ACTIVE, each with its stream if it has one. */
export const seed = (account: Account, tables: ReadonlyArray<TableSeed>) => {
  for (const t of tables) {
    const stream = t.stream === undefined ? {} : {
      StreamSpecification: { StreamEnabled: true, StreamViewType: t.stream },
      LatestStreamArn: account.newStreamArn(t.name)
    }
    account.tables.set(t.name, { TableName: t.name, TableArn: tableArn(t.name), TableStatus: "ACTIVE", KeySchema: [...(t.keySchema ?? defaultKeys)], ...stream })
    if (t.tags !== undefined) account.tableTags.set(tableArn(t.name), t.tags)
    if (t.items !== undefined) account.itemCounts.set(t.name, t.items)
  }
}

/** Resets the mock and answers DynamoDB's control-plane commands from the account. */
export const install = (account: Account) => {
  const { tables, tableTags, timeToLive, itemCounts, backups, injected } = account
  const tableOrFail = (name: string | undefined) => {
    const table = name === undefined ? undefined : tables.get(name)
    if (table === undefined) throw new ResourceNotFoundException({ message: `Requested resource not found: Table: ${name} not found`, ...meta })
    return table
  }

  dynamo.reset()
  dynamo.onAnyCommand().rejects(new Error("the fake account does not model this DynamoDB command"))
  dynamo.on(DescribeTableCommand).callsFake(async (input: DescribeTableCommandInput) => {
    injected("DescribeTable")
    return { Table: tableOrFail(input.TableName) }
  })
  dynamo.on(ListTagsOfResourceCommand).callsFake(async (input: ListTagsOfResourceCommandInput) => {
    injected("ListTagsOfResource")
    if (![...tables.values()].some((t) => t.TableArn === input.ResourceArn)) {
      throw new ResourceNotFoundException({ message: `Requested resource not found: ${input.ResourceArn}`, ...meta })
    }
    return { Tags: Object.entries(tableTags.get(input.ResourceArn ?? "") ?? {}).map(([Key, Value]) => ({ Key, Value })) }
  })
  dynamo.on(DescribeTimeToLiveCommand).callsFake(async (input: DescribeTimeToLiveCommandInput) => {
    injected("DescribeTimeToLive")
    const table = tableOrFail(input.TableName)
    const attribute = timeToLive.get(table.TableName ?? "")
    return { TimeToLiveDescription: attribute === undefined ? { TimeToLiveStatus: "DISABLED" } : { TimeToLiveStatus: "ENABLED", AttributeName: attribute } }
  })
  dynamo.on(UpdateTimeToLiveCommand).callsFake(async (input: UpdateTimeToLiveCommandInput) => {
    injected("UpdateTimeToLive")
    const table = tableOrFail(input.TableName)
    if (input.TimeToLiveSpecification?.Enabled === true) timeToLive.set(table.TableName ?? "", input.TimeToLiveSpecification.AttributeName ?? "")
    else timeToLive.delete(table.TableName ?? "")
    return { TimeToLiveSpecification: input.TimeToLiveSpecification }
  })
  dynamo.on(ScanCommand).callsFake(async (input: ScanCommandInput) => {
    injected("Scan")
    const table = tableOrFail(input.TableName)
    const count = Math.min(itemCounts.get(table.TableName ?? "") ?? 0, input.Limit ?? Number.MAX_SAFE_INTEGER)
    return { Count: count, ScannedCount: count, ...(input.Select === "COUNT" ? {} : { Items: [] }) }
  })
  dynamo.on(CreateBackupCommand).callsFake(async (input: CreateBackupCommandInput) => {
    injected("CreateBackup")
    const table = tableOrFail(input.TableName)
    const arn = `${table.TableArn}/backup/0000000000000-${String(backups.size).padStart(8, "0")}`
    backups.set(arn, { table: table.TableName ?? "", polls: 1 })
    return { BackupDetails: { BackupArn: arn, BackupName: input.BackupName, BackupStatus: "CREATING", BackupCreationDateTime: new Date(0) } }
  })
  dynamo.on(DescribeBackupCommand).callsFake(async (input: DescribeBackupCommandInput) => {
    injected("DescribeBackup")
    const backup = backups.get(input.BackupArn ?? "")
    if (backup === undefined) throw new DynamoDBServiceException({ name: "BackupNotFoundException", $fault: "client", message: "Backup not found", ...meta })
    const status = backup.polls > 0 ? "CREATING" : "AVAILABLE"
    backups.set(input.BackupArn ?? "", { ...backup, polls: backup.polls - 1 })
    return { BackupDescription: { BackupDetails: { BackupArn: input.BackupArn, BackupName: "b", BackupStatus: status, BackupCreationDateTime: new Date(0) } } }
  })
  dynamo.on(DeleteTableCommand).callsFake(async (input: DeleteTableCommandInput) => {
    injected("DeleteTable")
    const table = tableOrFail(input.TableName)
    if ([...backups.values()].some((b) => b.table === table.TableName && b.polls >= 0)) {
      throw new DynamoDBServiceException({ name: "ResourceInUseException", $fault: "client", message: "Table is being backed up", ...meta })
    }
    tables.delete(table.TableName ?? "")
    tableTags.delete(table.TableArn ?? "")
    return { TableDescription: { ...table, TableStatus: "DELETING" } }
  })
  dynamo.on(CreateTableCommand).callsFake(async (input: CreateTableCommandInput) => {
    injected("CreateTable")
    const name = input.TableName ?? ""
    const table: TableDescription = { TableName: name, TableArn: tableArn(name), TableStatus: "ACTIVE", KeySchema: input.KeySchema ?? [] }
    tables.set(name, table)
    if (input.Tags !== undefined) tableTags.set(tableArn(name), Object.fromEntries(input.Tags.map((t) => [t.Key ?? "", t.Value ?? ""])))
    return { TableDescription: table }
  })
  dynamo.on(UpdateTableCommand).callsFake(async (input: UpdateTableCommandInput) => {
    injected("UpdateTable")
    const table = tableOrFail(input.TableName)
    const spec = input.StreamSpecification
    if (spec?.StreamEnabled === true && table.StreamSpecification?.StreamEnabled === true) {
      throw new DynamoDBServiceException({ name: "ValidationException", $fault: "client", message: "Table already has an enabled stream", ...meta })
    }
    const next: TableDescription = spec?.StreamEnabled === true
      ? { ...table, StreamSpecification: { ...spec }, LatestStreamArn: account.newStreamArn(table.TableName ?? "") }
      : { ...table, StreamSpecification: { StreamEnabled: false } }
    tables.set(table.TableName ?? "", next)
    return { TableDescription: next }
  })
}
