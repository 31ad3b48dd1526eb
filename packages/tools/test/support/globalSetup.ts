/**
 * Starts one in-memory DynamoDB Local on a free port for the whole `tools` test project; each test file
 * creates its own uniquely named tables on it.
 */
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import type { TestProject } from "vitest/node"
import { scopedInMemory } from "../../src/local/DynamoDbLocal.js"

declare module "vitest" {
  export interface ProvidedContext {
    dynamoEndpoint: string
  }
}

export default async function setup(project: TestProject) {
  const scope = await Effect.runPromise(Scope.make())
  const { endpoint } = await Effect.runPromise(scopedInMemory.pipe(Scope.provide(scope)))
  project.provide("dynamoEndpoint", endpoint)
  return () => Effect.runPromise(Scope.close(scope, Exit.void))
}
