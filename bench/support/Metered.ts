/**
 * A real DynamoDB client on the bench's DynamoDB Local that asks every call for the capacity it consumed
 * and reports it: how rows 1 and 6 count write and read units per transaction.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb"

/** One call's consumed capacity: DynamoDB Local reports only CapacityUnits, so the command tells reads from writes. */
export interface Metered {
  readonly command: string
  readonly capacity: number
  readonly isRead: boolean
}

/** A client whose every call adds `ReturnConsumedCapacity: "TOTAL"` and hands what it consumed to `onCall`. */
export const client = (endpoint: string, onCall: (call: Metered) => void) => {
  const c = new DynamoDBClient({
    endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "bench", secretAccessKey: "bench" },
    maxAttempts: 1
  })
  c.middlewareStack.add(
    (next, context) => async (args) => {
      ;(args.input as Record<string, unknown>).ReturnConsumedCapacity = "TOTAL"
      const result = await next(args)
      // One entry for single-item calls, one per table for TransactWriteItems and batches.
      const consumed = (result.output as { ConsumedCapacity?: { CapacityUnits?: number } | ReadonlyArray<{ CapacityUnits?: number }> })
        .ConsumedCapacity
      const capacity = (Array.isArray(consumed) ? consumed : [consumed]).reduce((n: number, u) => n + (u?.CapacityUnits ?? 0), 0)
      const command = context.commandName ?? ""
      onCall({ command, capacity, isRead: /^(Get|BatchGet|Query|Scan)/.test(command) })
      return result
    },
    { step: "initialize", name: "meter" }
  )
  return c
}
