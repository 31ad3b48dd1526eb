/**
 * The Powertools baseline as rows call it with their own client and tables: the real handler of
 * `powertools/handler.ts` (batch, idempotency, parser, logger), its logging off, handed each batch as
 * one stream event with a Lambda context; a record it reports failed is an error here.
 */
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb"
import * as Events from "@dyna/core/Events"
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from "aws-lambda"
import * as Powertools from "./powertools/handler.js"
import { lambdaContext } from "./powertools/table.js"

export { idempotencyTable, lambdaContext } from "./powertools/table.js"

export interface Tables {
  readonly profiles: string
  readonly idempotency: string
}

export const handler = (client: DynamoDBClient, tables: Tables) => {
  const handle = Powertools.make({ client, profilesTable: tables.profiles, idempotencyTable: tables.idempotency, logLevel: "SILENT" })
  return async (records: ReadonlyArray<DynamoDBRecord>) => {
    const response = await handle(Events.batch(records), lambdaContext())
    if (response.batchItemFailures.length > 0) throw new Error(`the Powertools handler failed ${response.batchItemFailures.length} records`)
  }
}

/**
 * The Powertools handler as Lambda runs it behind an event source mapping: one execution environment
 * per concurrent invocation (each its own client and handler, made on its first invocation and reused),
 * each invocation with a fresh context. What the local runner invokes in row 3.
 */
export const environments = (makeClient: () => DynamoDBClient, tables: Tables) => {
  const made: Array<DynamoDBClient> = []
  const idle: Array<ReturnType<typeof Powertools.make>> = []
  return {
    handler: async (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => {
      let handle = idle.pop()
      if (handle === undefined) {
        const client = makeClient()
        made.push(client)
        handle = Powertools.make({ client, profilesTable: tables.profiles, idempotencyTable: tables.idempotency, logLevel: "SILENT" })
      }
      try {
        return await handle(event, lambdaContext())
      } finally {
        idle.push(handle)
      }
    },
    /** How many environments it took. */
    count: () => made.length,
    dispose: async () => {
      for (const client of made) client.destroy()
    }
  }
}
