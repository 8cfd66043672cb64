import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after } from 'node:test';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { runStoreConformance } from './suite.js';

const dirs: string[] = [];
after(() => dirs.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));
runStoreConformance({
  name: 'SqliteStore',
  // A fresh file per test; `shared` opens a second handle on that test's file.
  open: ({ clock, shared }) => {
    if (!shared) dirs.push(fs.mkdtempSync(path.join(os.tmpdir(), 'conveyor-')));
    return new SqliteStore(path.join(dirs[dirs.length - 1], 'store.db'), { clock });
  },
});
