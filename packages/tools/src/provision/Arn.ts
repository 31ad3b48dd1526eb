/**
 * ARNs, read: a deployment's partition, region and account come from its table's ARN (no STS call
 * needed), a role's name from the end of its ARN.
 */
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"

export interface Arn {
  readonly partition: string
  readonly service: string
  readonly region: string
  readonly account: string
  /** What follows the account: `table/CustTransactions`, `role/service-role/jam-role`, … */
  readonly resource: string
}

export class InvalidArn extends Schema.TaggedError<InvalidArn>()("InvalidArn", { arn: Schema.String, expected: Schema.String }) {
  override get message() {
    return `expected ${this.expected}, got ${JSON.stringify(this.arn)}`
  }
}

/** `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`, where the resource may itself hold colons. */
export const parse = (arn: string, expected = "an ARN"): Result.Result<Arn, InvalidArn> => {
  const [prefix, partition, service, region, account, ...resource] = arn.split(":")
  if (prefix !== "arn" || !partition || !service || region === undefined || account === undefined || resource.length === 0) {
    return Result.fail(new InvalidArn({ arn, expected }))
  }
  return Result.succeed({ partition, service, region, account, resource: resource.join(":") })
}

/** The name at the end of the resource path: `role/service-role/jam-role` → `jam-role`. */
export const resourceName = (arn: Arn): string => arn.resource.split("/").at(-1) ?? arn.resource
