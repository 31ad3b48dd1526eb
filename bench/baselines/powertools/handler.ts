/**
 * The Powertools handler, the baseline a user following the Powertools for AWS Lambda docs would
 * write for the Jam, with the real libraries (dev dependencies of the bench; nothing of them is in our
 * bundle):
 *
 * - `@aws-lambda-powertools/batch`: a `BatchProcessor` for DynamoDB Streams and `processPartialResponse`,
 *   so a failed record alone goes back to the stream; each record parsed on the way in (the processor's
 *   parser integration, `@aws-lambda-powertools/batch/parser`, with a zod `schema` whose images are
 *   unmarshalled by the parser's `DynamoDBMarshalled` helper);
 * - `@aws-lambda-powertools/idempotency`: the record handler wrapped in `makeIdempotent`, its
 *   `DynamoDBPersistenceLayer` (an `id`-keyed table) keyed on the transaction, CustID + TnNum
 *   (`eventKeyJmesPath`), so a redelivered transaction is answered from its record instead of counted
 *   again; a record with no TnNum (the Jam's acceptance event) has no key and is processed every time,
 *   as the utility does when `throwOnNoIdempotencyKey` is off;
 * - `@aws-lambda-powertools/logger`;
 * - the profile update itself: one plain `UpdateItem ADD` through `@aws-sdk/lib-dynamodb`, and a
 *   second `UpdateItem` setting CustStatus to Elite when that addition crosses $1,000.
 *
 * Per transaction that is the idempotency record's conditional put (INPROGRESS), the profile update,
 * and the record's update to COMPLETED: three writes, plus one on a promotion.
 *
 * `make` builds one handler over a given client and tables (the bench's rows); `handler` is the
 * deployed entry, configured from the environment as the docs show. As in Lambda, one instance
 * handles one invocation at a time (the processor holds the batch it is processing).
 */
import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch"
import { parser } from "@aws-lambda-powertools/batch/parser"
import { IdempotencyConfig, makeIdempotent } from "@aws-lambda-powertools/idempotency"
import { DynamoDBPersistenceLayer } from "@aws-lambda-powertools/idempotency/dynamodb"
import { Logger } from "@aws-lambda-powertools/logger"
import { DynamoDBMarshalled } from "@aws-lambda-powertools/parser/helpers/dynamodb"
import { DynamoDBClient } from "@aws-sdk/client-dynamodb"
import { DynamoDBDocumentClient, UpdateCommand } from "@aws-sdk/lib-dynamodb"
import type { Context, DynamoDBBatchResponse, DynamoDBStreamEvent } from "aws-lambda"
import { z } from "zod"

const ELITE_DOLLARS = 1000

/** A stream record, its key and new image unmarshalled; INSERTs, MODIFYs and REMOVEs all parse. */
const StreamRecord = z.object({
  eventName: z.enum(["INSERT", "MODIFY", "REMOVE"]),
  dynamodb: z.object({
    SequenceNumber: z.string().optional(),
    Keys: DynamoDBMarshalled(z.record(z.string(), z.unknown())),
    NewImage: DynamoDBMarshalled(z.record(z.string(), z.unknown())).optional()
  })
})
type StreamRecord = z.infer<typeof StreamRecord>

/** A CustTransactions row, from the record's key and new image. */
const Transaction = z.object({
  CustID: z.string().min(1),
  TnNum: z.number().int().optional(),
  TnValue: z.number().int()
})

export interface Options {
  readonly client: DynamoDBClient
  readonly profilesTable: string
  readonly idempotencyTable: string
  /** The logger's level; the deployed handler takes `POWERTOOLS_LOG_LEVEL` (INFO by default). */
  readonly logLevel?: "DEBUG" | "INFO" | "WARN" | "ERROR" | "SILENT"
}

export const make = (options: Options) => {
  const logger = new Logger({ serviceName: "elite-profiles", ...(options.logLevel === undefined ? {} : { logLevel: options.logLevel }) })
  const documents = DynamoDBDocumentClient.from(options.client)
  const processor = new BatchProcessor(EventType.DynamoDBStreams, { parser, schema: StreamRecord, logger })
  const persistenceStore = new DynamoDBPersistenceLayer({ tableName: options.idempotencyTable, awsSdkV3Client: options.client })
  const idempotencyConfig = new IdempotencyConfig({
    // The transaction: its customer and number. No TnNum, no key: the record is processed without idempotency.
    eventKeyJmesPath: "dynamodb.Keys.TnNum && dynamodb.Keys.[CustID, TnNum]"
  })

  const recordHandler = async (record: StreamRecord) => {
    if (record.eventName !== "INSERT") return
    const parsed = Transaction.safeParse({ ...record.dynamodb.Keys, ...record.dynamodb.NewImage })
    if (!parsed.success) {
      // Malformed: no retry would help, so it is logged and skipped.
      logger.error("malformed record", { sequenceNumber: record.dynamodb.SequenceNumber, issues: parsed.error.issues })
      return
    }
    const { CustID, TnValue } = parsed.data
    const { Attributes } = await documents.send(new UpdateCommand({
      TableName: options.profilesTable,
      Key: { CustID },
      UpdateExpression: "ADD TotalTnValue :v SET CustStatus = if_not_exists(CustStatus, :normal)",
      ExpressionAttributeValues: { ":v": TnValue, ":normal": "Normal" },
      ReturnValues: "ALL_NEW"
    }))
    const total = Number(Attributes?.TotalTnValue ?? 0)
    if (total >= ELITE_DOLLARS && Attributes?.CustStatus !== "Elite") {
      await documents.send(new UpdateCommand({
        TableName: options.profilesTable,
        Key: { CustID },
        UpdateExpression: "SET CustStatus = :elite",
        ExpressionAttributeValues: { ":elite": "Elite" }
      }))
    }
    return { CustID, total }
  }

  const processIdempotently = makeIdempotent(recordHandler, { persistenceStore, config: idempotencyConfig })

  return async (event: DynamoDBStreamEvent, context: Context): Promise<DynamoDBBatchResponse> => {
    logger.addContext(context)
    idempotencyConfig.registerLambdaContext(context)
    return processPartialResponse(event, processIdempotently, processor, { context })
  }
}

/** The deployed entry: the client made at load, table names from the environment. */
export const handler = make({
  client: new DynamoDBClient({ maxAttempts: 1 }),
  profilesTable: process.env.PROFILES_TABLE ?? "CustProfile",
  idempotencyTable: process.env.IDEMPOTENCY_TABLE ?? "IdempotencyTable"
})
