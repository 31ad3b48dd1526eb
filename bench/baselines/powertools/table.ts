/** The Powertools handler's tables, as the bench makes them; kept out of handler.ts so its bundle stays the user's code alone. */
import type { TableDefinition } from "@dyna/tools/provision/TableSteps"
import type { Context } from "aws-lambda"

/** The idempotency table as the Powertools docs create it: partition key `id`, a string. */
export const idempotencyTable = (name: string): TableDefinition => ({
  name,
  keySchema: [{ AttributeName: "id", KeyType: "HASH" }],
  attributes: [{ AttributeName: "id", AttributeType: "S" }]
})

/**
 * The Lambda context an invocation gets, which the handler hands to the logger and the idempotency
 * utility (an in-progress record expires with the invocation's remaining time): a 60 s timeout.
 */
export const lambdaContext = (timeoutMillis = 60_000): Context => {
  const deadline = Date.now() + timeoutMillis
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: "dyna-bench-powertools",
    functionVersion: "$LATEST",
    invokedFunctionArn: "arn:aws:lambda:us-east-1:000000000000:function:dyna-bench-powertools",
    memoryLimitInMB: "1024",
    awsRequestId: crypto.randomUUID(),
    logGroupName: "/aws/lambda/dyna-bench-powertools",
    logStreamName: "bench",
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => {},
    fail: () => {},
    succeed: () => {}
  }
}
