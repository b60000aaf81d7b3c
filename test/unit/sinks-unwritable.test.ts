import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { unwritableFolder as unwritableFolderIn } from '../support/spool.js';
import { IdsyncError } from '../../src/core/errors.js';
import { prepareOutput, prepareSnapshot } from '../../src/sinks/index.js';
import type { Spool } from '../../src/core/sync/writers.js';

let dir: string;
let spool: Spool;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'idsync-unwritable-'));
  const file = path.join(dir, 'run.spool');
  await fs.writeFile(file, '{"userId":"1","name":"张伟"}\n{"userId":"2","name":"王芳"}\n');
  spool = {
    path: file,
    count: 2,
    fields: ['userId', 'name'],
    hasDuplicateKeys: false,
    keyField: 'userId',
    keyOf: (r) => String(r['userId']),
    isDeleted: () => false,
  };
});
afterEach(async () => {
  await fs.chmod(path.join(dir, 'locked'), 0o700).catch(() => undefined);
  await fs.rm(dir, { recursive: true, force: true });
});

const unwritableFolder = (): Promise<string> => unwritableFolderIn(dir);

const attempts = {
  'csv output': (dest: string) => prepareOutput(spool, dest, 'csv', { sheetName: 's' }),
  'ndjson output': (dest: string) => prepareOutput(spool, dest, 'ndjson', { sheetName: 's' }),
  'xlsx output': (dest: string) => prepareOutput(spool, dest, 'xlsx', { sheetName: 's' }),
  'ndjson snapshot': (dest: string) => prepareSnapshot(spool, dest, { mode: 'incremental', table: 't', updateField: 'u' }),
  'sqlite snapshot': (dest: string) => prepareSnapshot(spool, `${dest}.sqlite`, { mode: 'full', table: 't', updateField: 'u' }),
};

async function failure(p: Promise<unknown>): Promise<IdsyncError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(IdsyncError);
  return err as IdsyncError;
}

describe.each(Object.entries(attempts))('%s', (_, attempt) => {
  it('reports an unwritable folder in one line naming the path', async () => {
    const folder = await unwritableFolder();
    const err = await failure(attempt(path.join(folder, 'out')));
    expect(err.message).toMatch(new RegExp(`^cannot write ${folder}/out(\\.sqlite)?: permission denied$`));
    expect(err.exitCode).toBe(1);
  });

  it('reports a missing folder in one line', async () => {
    const err = await failure(attempt(path.join(dir, 'missing', 'out')));
    expect(err.message).toMatch(/^cannot write .*\/missing\/out(\.sqlite)?: folder .*\/missing does not exist$/);
    expect(await fs.readdir(dir)).toEqual(['run.spool']);
  });
});
