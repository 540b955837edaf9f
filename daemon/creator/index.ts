// The imgcreate engine: what the daemon (and in-process root users and tests) import.
export { ImageCreator } from "./image-creator.js";
export { LoopImageCreator } from "./loop-image-creator.js";
import { ImageCreator } from "./image-creator.js";
/** Whether a creator over workDir can resume() the image one before it put to rest. */
export const canResume = (workDir: string): Promise<boolean> => ImageCreator.canResume(workDir);
export { recover, releaseDevices, outstanding, JOURNAL_NAME } from "./journal.js";
export * from "./types.js";
export type { PackageBackend, PackageRequest, RepoConfig, SetupFile, InstallContext } from "./packages/backend.js";
export { AptBackend } from "./packages/apt.js";
export { checkRepositories } from "./repositories.js";
export { requireTools, TOOL_PACKAGES } from "./system/tools.js";
export { available as deviceMapperAvailable } from "./system/dm.js";
export { DEFAULT_LIMITS, type SandboxLimits } from "./system/sandbox.js";
