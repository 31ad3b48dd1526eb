/**
 * The S3 client as a service: its exceptions classified once, and the region its requests really go
 * to. That last one is seen on the wire, through a recording request handler: aws-sdk-client-mock
 * answers before the SDK resolves the region and endpoint, which is how a wrong region went unseen.
 */
import {
  BucketAlreadyExists,
  BucketAlreadyOwnedByYou,
  NoSuchBucket,
  NoSuchKey,
  NotFound,
  S3ServiceException
} from "@aws-sdk/client-s3"
import * as Environment from "@dyna/aws/Environment"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { Readable } from "node:stream"
import { assert, describe, it } from "vitest"
import * as OnFailureDestination from "../src/provision/OnFailureDestination.js"
import * as S3 from "../src/clients/S3.js"

const meta = (httpStatusCode: number) => ({ $metadata: { httpStatusCode } })
const named = (name: string, status: number) => new S3ServiceException({ name, $fault: "client", message: name, ...meta(status) })

/** What the SDK hands a request handler, once signed: the parts this test reads. */
interface SentRequest {
  readonly method: string
  readonly hostname: string
  readonly path: string
  readonly query?: Readonly<Record<string, unknown>>
  readonly headers: Readonly<Record<string, string>>
  readonly body?: unknown
}

const text = (body: unknown): string =>
  typeof body === "string" ? body : body instanceof Uint8Array ? new TextDecoder().decode(body) : ""

/**
 * A request handler that records each signed request and answers as S3 would for a bucket that does not
 * exist yet: HeadBucket 404 (no body, as HEAD answers are), everything else 200 with an empty body. The
 * answer is a plain object of HttpResponse's shape (`HttpResponse.isInstance` checks only that):
 * `@smithy/protocol-http` is not a dependency of this package, so it cannot be imported here.
 */
const recording = () => {
  const requests: Array<SentRequest & { readonly text: string }> = []
  const handler = {
    handle: async (request: SentRequest) => {
      requests.push({ ...request, text: text(request.body) })
      const statusCode = request.method === "HEAD" ? 404 : 200
      return { response: { statusCode, headers: {}, body: Readable.from([]) } }
    },
    updateHttpClientConfig: () => {},
    httpHandlerConfigs: () => ({}),
    destroy: () => {}
  }
  return { requests, handler }
}

describe("S3", () => {
  it("classifies S3's exceptions", () => {
    assert.strictEqual(S3.kindOf(new NotFound({ message: "NotFound", ...meta(404) })), "NotFound")
    assert.strictEqual(S3.kindOf(new NoSuchBucket({ message: "The specified bucket does not exist", ...meta(404) })), "NotFound")
    assert.strictEqual(S3.kindOf(new NoSuchKey({ message: "The specified key does not exist.", ...meta(404) })), "NotFound")
    assert.strictEqual(S3.kindOf(named("NoSuchTagSet", 404)), "NotFound")
    assert.strictEqual(S3.kindOf(new BucketAlreadyExists({ message: "not available", ...meta(409) })), "Conflict")
    assert.strictEqual(S3.kindOf(new BucketAlreadyOwnedByYou({ message: "yours already", ...meta(409) })), "Conflict")
    assert.strictEqual(S3.kindOf(named("AccessDenied", 403)), "AccessDenied")
    assert.strictEqual(S3.kindOf(named("SlowDown", 503)), "Transient")
    assert.strictEqual(S3.kindOf(named("MalformedXML", 400)), "Other")
  })

  it("creates the on-failure bucket in the configured region, at that region's endpoint", async () => {
    const { requests, handler } = recording()
    const layer = S3.S3.layerWith({
      requestHandler: handler,
      credentials: { accessKeyId: "AKIAFAKEFAKEFAKE", secretAccessKey: "fake" }
    }).pipe(Layer.provide(Environment.layer({ AWS_REGION: "eu-west-1" })))
    const bucket = "dyna-elite-on-failure-123456789012-eu-west-1"

    const outcome = await Effect.runPromise(
      Effect.gen(function*() {
        const decided = yield* OnFailureDestination.ensure(bucket, { key: "dyna-elite", value: "eu-west-1/" })
        return decided.apply === undefined ? decided : yield* decided.apply
      }).pipe(Effect.provide(layer))
    )

    assert.strictEqual(outcome.action, "created")
    assert.strictEqual(outcome.resource, `arn:aws:s3:::${bucket}`)
    assert.deepStrictEqual(requests.map((r) => r.method), ["HEAD", "PUT", "PUT", "PUT", "PUT", "PUT", "PUT"])
    for (const r of requests) {
      assert.strictEqual(r.hostname, `${bucket}.s3.eu-west-1.amazonaws.com`)
      assert.include(r.headers["authorization"] ?? "", "/eu-west-1/s3/aws4_request")
    }
    const create = requests[1]
    assert.strictEqual(create?.path, "/")
    assert.deepStrictEqual(create?.query ?? {}, {})
    assert.include(create?.text, "<LocationConstraint>eu-west-1</LocationConstraint>")
    const tagging = requests[2]
    assert.deepStrictEqual(tagging?.query, { tagging: "" })
    assert.include(tagging?.text, "<Tag><Key>dyna-elite</Key><Value>eu-west-1/</Value></Tag>")
  })
})
