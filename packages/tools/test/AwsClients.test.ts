/**
 * The Lambda and IAM clients as services: their SDK exceptions classified once, the messages a person
 * reads, and the region the AWS target's `--region` sets.
 */
import { EntityAlreadyExistsException, IAMServiceException, NoSuchEntityException, ServiceFailureException } from "@aws-sdk/client-iam"
import {
  InvalidParameterValueException,
  LambdaServiceException,
  ResourceConflictException,
  ResourceNotFoundException,
  TooManyRequestsException
} from "@aws-sdk/client-lambda"
import * as Environment from "@dyna/aws/Environment"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { assert, describe, it } from "vitest"
import * as Iam from "../src/clients/Iam.js"
import * as Lambda from "../src/clients/Lambda.js"
import * as AwsSteps from "../src/provision/AwsSteps.js"

const meta = (httpStatusCode: number) => ({ $metadata: { httpStatusCode } })
const noCredentials = Object.assign(new Error("Could not load credentials from any providers"), { name: "CredentialsProviderError" })

describe("AWS clients", () => {
  it("classify Lambda's exceptions", () => {
    assert.strictEqual(Lambda.kindOf(new ResourceNotFoundException({ message: "Function not found", ...meta(404) })), "NotFound")
    assert.strictEqual(Lambda.kindOf(new ResourceConflictException({ message: "An update is in progress", ...meta(409) })), "Conflict")
    assert.strictEqual(Lambda.kindOf(new TooManyRequestsException({ message: "Rate exceeded", ...meta(429) })), "Transient")
    const denied = new LambdaServiceException({ name: "AccessDeniedException", $fault: "client", message: "not authorized", ...meta(403) })
    assert.strictEqual(Lambda.kindOf(denied), "AccessDenied")
    assert.strictEqual(Lambda.kindOf(noCredentials), "NoCredentials")
    assert.strictEqual(Lambda.kindOf(new InvalidParameterValueException({ message: "bad", ...meta(400) })), "Other")
  })

  it("classify IAM's exceptions", () => {
    assert.strictEqual(Iam.kindOf(new NoSuchEntityException({ message: "The role cannot be found", ...meta(404) })), "NotFound")
    assert.strictEqual(Iam.kindOf(new EntityAlreadyExistsException({ message: "Role exists", ...meta(409) })), "Conflict")
    assert.strictEqual(Iam.kindOf(new ServiceFailureException({ message: "oops", ...meta(500) })), "Transient")
    const denied = new IAMServiceException({ name: "AccessDenied", $fault: "client", message: "not authorized", ...meta(403) })
    assert.strictEqual(Iam.kindOf(denied), "AccessDenied")
    assert.strictEqual(Iam.kindOf(noCredentials), "NoCredentials")
  })

  it("say what failed, and how to give credentials when there are none", () => {
    const denied = new LambdaServiceException({ name: "AccessDeniedException", $fault: "client", message: "not authorized", ...meta(403) })
    assert.strictEqual(
      new Lambda.LambdaError({ operation: "CreateFunction", kind: "AccessDenied", cause: denied }).message,
      "Lambda CreateFunction was denied (not authorized): the AWS credentials in use need permission for it"
    )
    assert.strictEqual(
      new Iam.IamError({ operation: "GetRole", kind: "NoCredentials", cause: noCredentials }).message,
      "no AWS credentials found (Could not load credentials from any providers): configure them with `aws configure`, AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
    )
  })

  it("take their region from AWS_REGION, which --region sets", async () => {
    const config = Environment.layer({ AWS_REGION: "ap-southeast-2" })
    const regions = await Effect.runPromise(Effect.gen(function*() {
      const lambda = yield* Lambda.Lambda
      const iam = yield* Iam.Iam
      return [
        yield* lambda.call("region", (client) => client.config.region()),
        yield* iam.call("region", (client) => client.config.region())
      ]
    }).pipe(Effect.provide(AwsSteps.layer.pipe(Layer.provide(config)))))
    assert.deepStrictEqual(regions, ["ap-southeast-2", "ap-southeast-2"])
  })

  it("fall back to no region of their own: none configured is the sentence that says how to give one", async () => {
    const none = Environment.layer({})
    const built = <A>(layer: Layer.Layer<A, Environment.SettingError>) =>
      Effect.runPromise(Layer.build(layer).pipe(Effect.scoped, Effect.provide(none), Effect.flip))
    for (const error of [await built(Lambda.Lambda.layer), await built(Iam.Iam.layer)]) {
      assert.include(error.message, "no AWS region configured: pass --region, set AWS_REGION")
    }
  })
})
