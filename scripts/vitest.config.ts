import { defineProject } from "vitest/config"
import { sourceResolution } from "../vitest.workspace.js"

export default defineProject({
  ...sourceResolution,
  test: {
    name: "scripts",
    include: ["test/**/*.test.ts"],
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
    testTimeout: 120_000,
    hookTimeout: 120_000
  }
})
