/** What a bench contender is: shared by contenders.ts and sqlite-contenders.ts. */
import type { SandboxInfo } from './sandbox-server.js';

export interface RunSetup {
  sandbox: SandboxInfo;
  /** A fresh, empty folder for this run. */
  dir: string;
}

export interface Invocation {
  /** Arguments to node. */
  args: string[];
  env: NodeJS.ProcessEnv;
  /** The file whose lines are checked afterwards. */
  output: string;
  /**
   * The output is the records in arrival order, exactly as served: its bytes must match the
   * other such contenders' (a snapshot is sorted by key instead, only its count is checked).
   */
  sameBytes: boolean;
  /** Lines `output` must have at least; without it, exactly the sandbox's live records. */
  minLines?: number;
  /** Further checks after the run (a snapshot's rows): a description of what held, or it throws. */
  check?: () => Promise<string>;
}

export interface Contender {
  name: string;
  about: string;
  /** Untimed work before the timed run (an incremental run's first, full run; the mutation). */
  prepare?(setup: RunSetup): Promise<void>;
  invoke(setup: RunSetup): Invocation;
}
