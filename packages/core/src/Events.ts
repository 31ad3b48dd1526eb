/**
 * Stream events shaped as Lambda delivers them from a CustTransactions stream: for tests, sample
 * events and tools that replay rows.
 *
 * @since 0.1.0
 */
import type { DynamoDBRecord, DynamoDBStreamEvent } from "aws-lambda"

/**
 * @since 0.1.0
 * @category models
 */
export interface InsertOptions {
  readonly custId: string
  readonly tnNum?: number | string | undefined
  readonly tnValue: number | string
  readonly sequenceNumber?: string | undefined
}

/**
 * The INSERT record a NEW_IMAGE stream emits when a CustTransactions row is written.
 *
 * @since 0.1.0
 * @category constructors
 */
export const insert = (options: InsertOptions): DynamoDBRecord => {
  const keys = {
    CustID: { S: options.custId },
    ...(options.tnNum === undefined ? {} : { TnNum: { N: String(options.tnNum) } })
  }
  return {
    eventID: options.sequenceNumber === undefined ? undefined : `ev-${options.sequenceNumber}`,
    eventName: "INSERT",
    eventSource: "aws:dynamodb",
    eventVersion: "1.1",
    awsRegion: "us-east-1",
    dynamodb: {
      Keys: keys,
      NewImage: { ...keys, TnValue: { N: String(options.tnValue) } },
      StreamViewType: "NEW_IMAGE",
      ...(options.sequenceNumber === undefined ? {} : { SequenceNumber: options.sequenceNumber })
    }
  }
}

/**
 * A MODIFY or REMOVE of a CustTransactions row.
 *
 * @since 0.1.0
 * @category constructors
 */
export const change = (
  eventName: "MODIFY" | "REMOVE",
  options: InsertOptions
): DynamoDBRecord => ({ ...insert(options), eventName })

/**
 * A batch of records in one event.
 *
 * @since 0.1.0
 * @category constructors
 */
export const batch = (records: ReadonlyArray<DynamoDBRecord>): DynamoDBStreamEvent => ({ Records: [...records] })

/**
 * Stream-style sequence numbers: 21 digits and up, increasing, as strings.
 *
 * @since 0.1.0
 * @category constructors
 */
export const sequenceNumber = (n: number | bigint): string => (100000000000000000000n + BigInt(n)).toString()
