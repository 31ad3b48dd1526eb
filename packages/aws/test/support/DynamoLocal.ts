/**
 * Real DynamoDB for tests: fresh tables on the project's DynamoDB Local, the live services over them,
 * and a client with a fault-injection seam (SDK middleware) for throttling and crashes.
 */
import { BatchWriteItemCommand, CreateTableCommand, DynamoDBClient, GetItemCommand, PutItemCommand, ScanCommand, waitUntilTableExists, type WriteRequest } from "@aws-sdk/client-dynamodb"
import type { AttributeValue } from "@aws-sdk/client-dynamodb"
import * as Environment from "../../src/Environment.js"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import { randomUUID } from "node:crypto"
import * as AppliedPages from "@dyna/core/AppliedPages"
import * as Events from "@dyna/core/Events"
import type { DynamoDBRecord } from "aws-lambda"
import { afterAll, afterEach, assert, beforeAll, beforeEach, inject } from "vitest"
import { operationsNoDeps, services } from "../../src/AppLayer.js"
import { DynamoDb } from "../../src/DynamoDb.js"
import * as Handler from "../../src/Handler.js"
import * as Metrics from "../../src/Metrics.js"
import * as HandlerIam from "./HandlerIam.js"
import * as Deployment from "../../src/Deployment.js"
import { eventsTable, profilesTable, rejectedTable, type TableDefinition, Tables, transactionsTable } from "../../src/Tables.js"

export interface TableNames {
  readonly transactions: string
  readonly profiles: string
  readonly rejected: string
  readonly events: string
}

declare module "vitest" {
  export interface ProvidedContext {
    /** Where the test project's DynamoDB Local listens (its globalSetup provides it). */
    dynamoEndpoint: string
  }
}

export const endpoint = () => inject("dynamoEndpoint")

/** Called before each SDK command is sent (`before`) and after its response arrived (`after`). */
export interface Faults {
  readonly before?: (command: string, input: Record<string, unknown>) => void
  readonly after?: (command: string, input: Record<string, unknown>) => void
  /** Sees every error a command met, injected or real (a lost conditional write, say). */
  readonly failed?: (command: string, error: unknown) => void
  /** Rewrites a response before the caller sees it (what DynamoDB may answer, such as unprocessed keys). */
  readonly answer?: (command: string, output: Record<string, unknown>) => Record<string, unknown>
}

/** A real SDK client for the test instance, with the fault seam in its middleware stack. */
export const client = (faults: Faults = {}) => {
  const c = new DynamoDBClient({
    endpoint: endpoint(),
    region: "us-east-1",
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
    maxAttempts: 1
  })
  c.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as Record<string, unknown>
      const command = context.commandName ?? ""
      try {
        faults.before?.(command, input)
        const result = await next(args)
        faults.after?.(command, input)
        return faults.answer === undefined
          ? result
          : { ...result, output: faults.answer(command, result.output as unknown as Record<string, unknown>) as unknown as typeof result.output }
      } catch (error) {
        faults.failed?.(command, error)
        throw error
      }
    },
    { step: "initialize", name: "testFaults" }
  )
  return c
}

const baseLayer = (names: TableNames, sdk: DynamoDBClient) =>
  Layer.mergeAll(
    Layer.succeed(DynamoDb, DynamoDb.fromClient(sdk, endpoint())),
    Tables.layer.pipe(
      Layer.provide(Environment.layer(Deployment.tableEnvironment(names)))
    )
  )

/** Creates a table as provision does (on-demand, the same keys), with a NEW_IMAGE stream if asked. */
export const createTable = async (db: DynamoDBClient, definition: TableDefinition, stream = false) => {
  await db.send(new CreateTableCommand({
    TableName: definition.name,
    KeySchema: [...definition.keySchema],
    AttributeDefinitions: [...definition.attributes],
    BillingMode: "PAY_PER_REQUEST",
    ...(stream ? { StreamSpecification: { StreamEnabled: true, StreamViewType: "NEW_IMAGE" } } : {})
  }))
  await waitUntilTableExists({ client: db, maxWaitTime: 60 }, { TableName: definition.name })
}

/** Fresh, empty tables (and the CustTransactions stream), named uniquely for one test. */
export const freshTables = async (): Promise<TableNames> => {
  const id = randomUUID().slice(0, 8)
  const names = { transactions: `tx-${id}`, profiles: `profile-${id}`, rejected: `rejected-${id}`, events: `events-${id}` }
  const db = client()
  await createTable(db, transactionsTable(names.transactions), true)
  for (const definition of [profilesTable(names.profiles), rejectedTable(names.rejected), eventsTable(names.events)]) await createTable(db, definition)
  db.destroy()
  return names
}

/** Log lines a handler wrote, as structured objects. */
export type LogLine = { readonly level: string; readonly message: unknown; readonly annotations: Record<string, unknown> }

/** The given services over the given tables and client, their logs kept in `logs`. */
const over = <A, E, R>(layer: Layer.Layer<A, E, R>, names: TableNames, sdk: DynamoDBClient, logs: Array<LogLine>) =>
  layer.pipe(
    Layer.provideMerge(baseLayer(names, sdk)),
    Layer.provideMerge(Logger.layer([Logger.map(Logger.formatStructured, (line) => void logs.push(line))]))
  )

/** The live services the tools run on (`AppLayer.operationsNoDeps`) over the given tables and client. */
export const servicesLayer = (names: TableNames, sdk: DynamoDBClient = client(), logs: Array<LogLine> = []) =>
  over(operationsNoDeps(), names, sdk, logs)

/**
 * A console that keeps what `Console.log` prints (the EMF lines; the logger writes elsewhere in tests)
 * in `printed`, one entry per call, as Lambda would find it on stdout.
 */
export const printing = (printed: Array<string>) =>
  Layer.succeed(Console.Console, { ...console, log: (...args: ReadonlyArray<unknown>) => void printed.push(args.map(String).join(" ")) })

/**
 * The real handler over the given tables; `logs` collects what it logged, `printed` what it printed
 * (`metrics()` reads those as EMF lines). Every call its client sends is recorded and, after the test
 * file, evaluated against the function's IAM policy (`HandlerIam`).
 */
export const handler = (names: TableNames, options: { readonly faults?: Faults } = {}) => {
  const logs: Array<LogLine> = []
  const faults = options.faults ?? {}
  const iam = HandlerIam.recording(names)
  const recorded: Faults = {
    ...faults,
    before: (command, input) => {
      iam.record(command, input)
      faults.before?.(command, input)
    }
  }
  const printed: Array<string> = []
  // The handler's own services, as its AppLayer has them: nothing the tools add.
  const made = Handler.make(Layer.merge(over(services, names, client(recorded), logs), printing(printed)))
  /** The counts of each invocation's "batch processed" line, oldest first. */
  const summaries = () => logs.filter((l) => l.message === "batch processed").map((l) => l.annotations)
  /** Each invocation's EMF line, read back, oldest first. */
  const metrics = () => printed.flatMap((line) => Metrics.decode(line) ?? [])
  return { ...made, logs, summaries, printed, metrics, iam }
}

/**
 * Fresh tables before each test of the calling file (or `describe`), and every handler made on them
 * with `handlerWith` disposed of after the test.
 */
export const perTest = () => {
  let current: TableNames | undefined
  const disposers: Array<() => Promise<void>> = []
  beforeEach(async () => {
    current = await freshTables()
  })
  afterEach(async () => {
    await Promise.all(disposers.splice(0).map((dispose) => dispose()))
  })
  const tables = {
    /** This test's tables. */
    get names(): TableNames {
      if (current === undefined) throw new Error("DynamoLocal.perTest: the tables are made before each test, not at collection")
      return current
    },
    /** Has `dispose` run after the test, with the handlers'. */
    disposeAfter: (dispose: () => Promise<void>) => void disposers.push(dispose),
    /** The real handler on this test's tables, with the given faults, disposed of after the test. */
    handlerWith: (faults: Faults = {}) => {
      const h = handler(tables.names, { faults })
      tables.disposeAfter(h.dispose)
      return h
    }
  }
  return tables
}

const plain = (av: AttributeValue | undefined): unknown =>
  av === undefined ? undefined : av.N !== undefined ? Number(av.N) : av.S !== undefined ? av.S : av.M !== undefined ? av.M : av

/** The profile row as stored, with numbers as numbers. */
export const profileRow = async (names: TableNames, custId: string) => {
  const out = await client().send(new GetItemCommand({ TableName: names.profiles, Key: { CustID: { S: custId } }, ConsistentRead: true }))
  return out.Item === undefined ? undefined : Object.fromEntries(Object.entries(out.Item).map(([k, v]) => [k, plain(v)]))
}

/** Every item of a table, strongly consistent, with scalars as plain values. */
export const scanTable = async (table: string) => {
  const db = client()
  const items: Array<Record<string, unknown>> = []
  let start: Record<string, AttributeValue> | undefined
  do {
    const out = await db.send(new ScanCommand({ TableName: table, ConsistentRead: true, ExclusiveStartKey: start }))
    for (const i of out.Items ?? []) items.push(Object.fromEntries(Object.entries(i).map(([k, v]) => [k, plain(v)])))
    start = out.LastEvaluatedKey
  } while (start !== undefined)
  db.destroy()
  return items
}

/** A CustTransactions row as the tests write it. */
export interface TransactionRow {
  readonly custId: string
  readonly tnNum: number
  readonly tnValue: number
}

export const transactionItem = (row: TransactionRow): Record<string, AttributeValue> => ({
  CustID: { S: row.custId },
  TnNum: { N: String(row.tnNum) },
  TnValue: { N: String(row.tnValue) }
})

/** Puts up to 25 rows with one BatchWriteItem, as a shop front-end would, sending what DynamoDB leaves unprocessed again. */
export const putRows = async (db: DynamoDBClient, table: string, rows: ReadonlyArray<TransactionRow>) => {
  let pending: Array<WriteRequest> = rows.map((row) => ({ PutRequest: { Item: transactionItem(row) } }))
  while (pending.length > 0) {
    const out = await db.send(new BatchWriteItemCommand({ RequestItems: { [table]: pending } }))
    pending = out.UnprocessedItems?.[table] ?? []
  }
}

export const putItem = (table: string, item: Record<string, AttributeValue>) =>
  client().send(new PutItemCommand({ TableName: table, Item: item }))

/**
 * Fresh tables and a live handler over them for the whole test file, released after it. Read the
 * fields inside tests: they are set once `beforeAll` has run.
 */
export const useHandler = () => {
  const context = {} as { names: TableNames; live: ReturnType<typeof handler> }
  beforeAll(async () => {
    context.names = await freshTables()
    context.live = handler(context.names)
  })
  afterAll(() => context.live.dispose())
  return context
}

let lastSequence = 0

/** A stream-style sequence number above every one handed out before in this test file. */
export const nextSequenceNumber = () => Events.sequenceNumber(++lastSequence)

/** INSERT records for one customer, each with a fresh, increasing sequence number. */
export const inserts = (
  custId: string,
  values: ReadonlyArray<readonly [tnNum: number, tnValue: number]>
): Array<DynamoDBRecord> =>
  values.map(([tnNum, tnValue]) => Events.insert({ custId, tnNum, tnValue, sequenceNumber: nextSequenceNumber() }))

/** Every EliteQualified item, with numbers as numbers, oldest promotion first (the applied log's pages left out). */
export const eliteEvents = async (names: TableNames) => {
  const out = await client().send(new ScanCommand({ TableName: names.events, ConsistentRead: true }))
  return (out.Items ?? [])
    .filter((item) => !AppliedPages.isPageItem(item))
    .map((item) => Object.fromEntries(Object.entries(item).map(([k, v]) => [k, plain(v)])))
    .sort((a, b) => String(a.QualifiedAt).localeCompare(String(b.QualifiedAt)))
}

/** Runs an effect on the live services over the given tables. */
export const run = <A, E>(names: TableNames, effect: Effect.Effect<A, E, Layer.Success<ReturnType<typeof servicesLayer>>>, sdk?: DynamoDBClient) =>
  Effect.runPromise(effect.pipe(Effect.provide(servicesLayer(names, sdk))))

/** Delivers a batch as Lambda does: again from the lowest reported failure, until none is reported. */
export const deliver = async (h: { readonly handler: Handler.Handler }, records: ReadonlyArray<DynamoDBRecord>) => {
  let pending = [...records]
  for (let attempt = 0; attempt < 10 && pending.length > 0; attempt++) {
    const lowest = (await h.handler(Events.batch(pending))).batchItemFailures[0]?.itemIdentifier
    pending = lowest === undefined ? [] : pending.slice(pending.findIndex((r) => r.dynamodb?.SequenceNumber === lowest))
  }
  assert.strictEqual(pending.length, 0, "still failing after 10 deliveries")
}
