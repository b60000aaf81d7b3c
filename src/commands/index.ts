import type { Command } from 'commander';
import type { CliContext } from '../cli-context.js';
import { registerApi } from './api.js';
import { registerAuth } from './auth.js';
import { registerCompletion } from './completion.js';
import { addExamples } from './help-examples.js';
import { registerLookup } from './lookup.js';
import { registerPhoto } from './photo.js';
import { registerPull } from './pull.js';
import { registerSandbox } from './sandbox.js';
import { registerSources } from './sources.js';
import { registerState } from './state.js';

/** Each command lives in its own module and registers itself; this file only wires them. */
export function registerCommands(program: Command, ctx: CliContext): void {
  registerAuth(program, ctx);
  registerSources(program, ctx);
  registerPull(program, ctx);
  registerState(program, ctx);
  registerLookup(program, ctx);
  registerPhoto(program, ctx);
  registerApi(program, ctx);
  registerSandbox(program, ctx);
  registerCompletion(program, ctx);
  addExamples(program);
}
