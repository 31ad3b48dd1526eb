/**
 * One AWS SDK call, as every client service (`DynamoDb`, `Lambda`, `Iam`) makes it: the promise wrapped
 * once, the thrown SDK exception read once, and the sentences a person needs when credentials are missing.
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as Environment from "./Environment.js"

/** What a thrown SDK exception says about itself, read off an unknown value. */
export interface Reported {
  readonly name: string | undefined
  readonly code: string | undefined
  readonly status: number | undefined
}

const field = (u: unknown, key: string): unknown => (typeof u === "object" && u !== null ? Reflect.get(u, key) : undefined)

const stringField = (u: unknown, key: string): string | undefined => {
  const value = field(u, key)
  return typeof value === "string" ? value : undefined
}

/** The name, code and HTTP status an SDK exception carries, read without trusting its shape: every classifier starts here. */
export const reported = (cause: unknown): Reported => {
  const status = field(field(cause, "$metadata"), "httpStatusCode")
  return {
    name: stringField(cause, "name"),
    code: stringField(cause, "code") ?? stringField(field(cause, "cause"), "code"),
    status: typeof status === "number" ? status : undefined
  }
}

/** The exception's own message (or its name), for error messages; never throws, whatever it is given. */
export const detail = (cause: unknown): string => {
  if (cause instanceof Error) return cause.message || cause.name
  // A copy of an exception (as test runners and serializers make) keeps the fields, not the prototype.
  const own = stringField(cause, "message") || stringField(cause, "name")
  if (own !== undefined) return own
  return typeof cause === "object" && cause !== null ? Object.prototype.toString.call(cause) : String(cause)
}

const transientNames = new Set([
  "ProvisionedThroughputExceededException",
  "ThrottlingException",
  "Throttling",
  "TooManyRequestsException",
  "RequestLimitExceeded",
  "InternalServerError",
  "ServiceUnavailable",
  "ServiceException",
  "ServiceFailureException",
  "TransactionConflictException",
  "TimeoutError",
  "RequestTimeout"
])
const unreachableCodes = new Set(["ECONNREFUSED", "ENOTFOUND", "EHOSTUNREACH", "ECONNRESET", "ETIMEDOUT", "EAI_AGAIN"])

/** Throttling and 5xx: worth another try. */
export const isTransient = (r: Reported): boolean =>
  (r.name !== undefined && transientNames.has(r.name)) || (r.status !== undefined && r.status >= 500)

/** The request never reached the service: refused, unresolvable or dropped. */
export const isUnreachable = (r: Reported): boolean => r.code !== undefined && unreachableCodes.has(r.code)

/** The SDK's default chain found no credentials (no keys, no profile, no SSO session, no instance role). */
export const isMissingCredentials = (cause: unknown): boolean => reported(cause).name === "CredentialsProviderError"

/** The sentence for missing credentials: says how to configure them, which the SDK's own message does not. */
export const noCredentials = (cause: unknown): string =>
  `no AWS credentials found (${detail(cause)}): configure them with \`aws configure\`, AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY`

/**
 * What kind of failure a control-plane call (Lambda, IAM) met; call sites choose retries by it, and
 * `NoCredentials` gets its own sentence.
 */
export const ControlPlaneKind = Schema.Literals(["NotFound", "Conflict", "Transient", "AccessDenied", "NoCredentials", "Other"])
export type ControlPlaneKind = typeof ControlPlaneKind.Type

const accessDeniedNames = new Set([
  "AccessDenied",
  "AccessDeniedException",
  "UnrecognizedClientException",
  "InvalidClientTokenId",
  "InvalidSignatureException",
  "SignatureDoesNotMatch",
  "ExpiredToken",
  "ExpiredTokenException"
])

/** The exception names a service uses for "no such resource" and "it exists / it is busy". */
export interface ServiceNames {
  readonly notFound: ReadonlySet<string>
  readonly conflict: ReadonlySet<string>
}

/** The service refused the caller: no permission for the action, or credentials it does not accept. */
export const isAccessDenied = (r: Reported): boolean => (r.name !== undefined && accessDeniedNames.has(r.name)) || r.status === 403

/** Classifies a Lambda or IAM failure once, so call sites choose retries and messages by kind, not by exception name. */
export const controlPlaneKindOf = (cause: unknown, names: ServiceNames): ControlPlaneKind => {
  const r = reported(cause)
  const named = (set: ReadonlySet<string>) => r.name !== undefined && set.has(r.name)
  if (r.name === "CredentialsProviderError") return "NoCredentials"
  if (named(names.notFound) || r.status === 404) return "NotFound"
  if (named(names.conflict) || r.status === 409) return "Conflict"
  if (isAccessDenied(r)) return "AccessDenied"
  if (isUnreachable(r) || isTransient(r)) return "Transient"
  return "Other"
}

/** The message of a failed control-plane call. */
export const controlPlaneMessage = (service: string, operation: string, kind: ControlPlaneKind, cause: unknown): string => {
  switch (kind) {
    case "NoCredentials":
      return noCredentials(cause)
    case "AccessDenied":
      return `${service} ${operation} was denied (${detail(cause)}): the AWS credentials in use need permission for it`
    default:
      return `${service} ${operation} failed (${kind}): ${detail(cause)}`
  }
}

/** A service's `call`: runs `f` on the client and turns whatever it throws into the service's error. */
export const caller = <C, E>(client: C, toError: (operation: string, cause: unknown) => E) =>
<A>(operation: string, f: (client: C) => Promise<A>): Effect.Effect<A, E> =>
  Effect.tryPromise({ try: () => f(client), catch: (cause) => toError(operation, cause) })

/** What a person reads when no region is configured anywhere; nothing has been sent by then. */
export const noRegion =
  "no AWS region configured: pass --region, set AWS_REGION (or AWS_DEFAULT_REGION), or give your profile one with `aws configure set region <region>`; nothing was sent to AWS"

/**
 * The region every client uses: `AWS_REGION` of the configuration, with no default, so that a client
 * never lands in a region nobody chose. Scripts resolve it once per command (`Region.resolve`: --region,
 * AWS_REGION, AWS_DEFAULT_REGION, the profile) and put the answer there; Lambda sets it for the function.
 */
export const region = Environment.required("AWS_REGION", noRegion)

/** A client for the layer's lifetime, destroyed (its sockets closed) when the layer is released. */
export const acquire = <C extends { destroy(): void }>(make: () => C) =>
  Effect.acquireRelease(Effect.sync(make), (client) => Effect.sync(() => client.destroy()))
