/**
 * Stream records as Lambda hands them to a function: the SDK's `GetRecords` output (dates as `Date`,
 * binary as bytes) turned into the JSON of a DynamoDB stream event (epoch seconds, base64, the
 * stream's ARN on every record).
 */
import type { _Record, AttributeValue as SdkAttributeValue } from "@aws-sdk/client-dynamodb-streams"
import type { AttributeValue, DynamoDBRecord, DynamoDBStreamEvent, StreamRecord } from "aws-lambda"

const base64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64")

/** One attribute value as JSON: binary values become base64 text. */
export const attributeValue = (value: SdkAttributeValue): AttributeValue => {
  if (value.S !== undefined) return { S: value.S }
  if (value.N !== undefined) return { N: value.N }
  if (value.B !== undefined) return { B: base64(value.B) }
  if (value.SS !== undefined) return { SS: value.SS }
  if (value.NS !== undefined) return { NS: value.NS }
  if (value.BS !== undefined) return { BS: value.BS.map(base64) }
  if (value.M !== undefined) return { M: attributeMap(value.M) }
  if (value.L !== undefined) return { L: value.L.map(attributeValue) }
  if (value.NULL !== undefined) return { NULL: value.NULL }
  if (value.BOOL !== undefined) return { BOOL: value.BOOL }
  // Only a type newer than this SDK gets here; DynamoDB has none today.
  return { NULL: true }
}

const attributeMap = (map: Record<string, SdkAttributeValue>): Record<string, AttributeValue> =>
  Object.fromEntries(Object.entries(map).map(([k, v]) => [k, attributeValue(v)]))

/**
 * The record as Lambda delivers it. `ApproximateCreationDateTime` is in epoch seconds, as in Lambda's
 * events (DynamoDB rounds it down; DynamoDB Local to the minute). Absent fields stay absent.
 */
export const lambdaRecord = (record: _Record, streamArn: string): DynamoDBRecord => {
  const d = record.dynamodb
  const created = d?.ApproximateCreationDateTime
  const dynamodb: StreamRecord | undefined = d === undefined ? undefined : {
    ...(created === undefined ? {} : { ApproximateCreationDateTime: Math.floor(created.getTime() / 1000) }),
    ...(d.Keys === undefined ? {} : { Keys: attributeMap(d.Keys) }),
    ...(d.NewImage === undefined ? {} : { NewImage: attributeMap(d.NewImage) }),
    ...(d.OldImage === undefined ? {} : { OldImage: attributeMap(d.OldImage) }),
    ...(d.SequenceNumber === undefined ? {} : { SequenceNumber: d.SequenceNumber }),
    ...(d.SizeBytes === undefined ? {} : { SizeBytes: d.SizeBytes }),
    ...(d.StreamViewType === undefined ? {} : { StreamViewType: d.StreamViewType })
  }
  return {
    ...(record.eventID === undefined ? {} : { eventID: record.eventID }),
    ...(record.eventName === undefined ? {} : { eventName: record.eventName }),
    ...(record.eventVersion === undefined ? {} : { eventVersion: record.eventVersion }),
    eventSource: record.eventSource ?? "aws:dynamodb",
    ...(record.awsRegion === undefined ? {} : { awsRegion: record.awsRegion }),
    ...(dynamodb === undefined ? {} : { dynamodb }),
    eventSourceARN: streamArn,
    ...(record.userIdentity === undefined ? {} : { userIdentity: record.userIdentity })
  }
}

/** The invocation event for a batch. */
export const event = (records: ReadonlyArray<DynamoDBRecord>): DynamoDBStreamEvent => ({ Records: [...records] })

/** When the record was written, in epoch milliseconds (to the second, as Lambda's event has it). */
export const createdAtMillis = (record: DynamoDBRecord): number | undefined => {
  const seconds = record.dynamodb?.ApproximateCreationDateTime
  return seconds === undefined ? undefined : seconds * 1000
}
