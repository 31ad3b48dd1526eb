/**
 * The Powertools baseline as rows call it with their own client and tables: the real handler of
 * `powertools/handler.ts` (batch, idempotency, parser, logger), its logging off, handed each batch as
 * one stream event with a Lambda context; a record it reports failed is an error here.
 */
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb"
import * as Events from "@dyna/core/Events"
import type { DynamoDBRecord } from "aws-lambda"
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
