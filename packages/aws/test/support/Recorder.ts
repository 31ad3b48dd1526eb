/**
 * A request handler for a real SDK client that records each request, signed as it would go out, and
 * answers it itself: what depends on the region (endpoint, signature) is asserted on the request, and
 * nothing reaches the network. `aws-sdk-client-mock` answers before the SDK resolves any of that.
 */
import type { DynamoDBClientConfig } from "@aws-sdk/client-dynamodb"

type Handler = Extract<NonNullable<DynamoDBClientConfig["requestHandler"]>, { handle: unknown }>

/** A request as the client would have sent it: hostname, headers (`authorization`), body. */
export type Request = Parameters<Handler["handle"]>[0]

/** What the handler answers: a status, its headers and a body. */
export interface Answer {
  readonly statusCode: number
  readonly headers: Record<string, string>
  readonly body: string
}

/** A handler answering every request with `answer(request)`, and the requests it saw, in order. */
export const recorder = (answer: (request: Request) => Answer) => {
  const requests: Array<Request> = []
  const handler = {
    handle: async (request: Request) => {
      requests.push(request)
      const { body, headers, statusCode } = answer(request)
      return { response: { statusCode, headers, body: Buffer.from(body) } }
    }
  }
  return { handler, requests }
}

/** The region and service an AWS Signature V4 `authorization` header was signed for (its credential scope). */
export const scope = (request: Request): string | undefined =>
  /Credential=[^/]+\/\d{8}\/([^,]+)\/aws4_request/.exec(request.headers["authorization"] ?? "")?.[1]

/** Placeholder keys: signing needs some, and nothing is sent. */
export const credentials = { accessKeyId: "AKIDRECORDER", secretAccessKey: "recorder" }

/** A DynamoDB JSON answer. */
export const dynamoJson = (statusCode: number, body: unknown): Answer => ({
  statusCode,
  headers: { "content-type": "application/x-amz-json-1.0" },
  body: JSON.stringify(body)
})

/** STS's `GetCallerIdentity` answer (the query protocol's XML) for a caller ARN. */
export const callerIdentity = (account: string, arn: string): Answer => ({
  statusCode: 200,
  headers: { "content-type": "text/xml" },
  body:
    `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>` +
    `<Arn>${arn}</Arn><UserId>AROAEXAMPLE:me</UserId><Account>${account}</Account>` +
    `</GetCallerIdentityResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></GetCallerIdentityResponse>`
})
