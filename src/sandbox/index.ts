/** The sandbox: a local, deterministic simulator of the ECNU and Tongji platforms. */
export { startSandbox } from './server.js';
export { sandboxClientEnv } from './client-env.js';
export { SANDBOX_CREDENTIALS, SANDBOX_PASSWORD, datasetIds, defaultPeople, faultKeys } from './types.js';
export type { DatasetId, FaultOptions, Mutation, MutationOp, Sandbox, SandboxCredentials, SandboxOptions, SandboxStats } from './types.js';
