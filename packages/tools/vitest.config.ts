import { defineProject } from "vitest/config"
import { sourceResolution } from "../../vitest.workspace.js"

export default defineProject({
  ...sourceResolution,
  test: {
    name: "tools",
    include: ["test/**/*.test.ts"],
    // One in-memory DynamoDB Local for the whole project; each test file makes its own tables.
    globalSetup: ["test/support/globalSetup.ts"],
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
    testTimeout: 60_000,
    hookTimeout: 120_000
  }
})
