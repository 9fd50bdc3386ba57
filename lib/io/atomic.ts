/**
 * Atomic file replacement: the bytes go to a temporary file in the target's folder, created with
 * O_EXCL under a name unique to the call (random suffix and pid, so threads of one process never
 * share it), flushed with fsync, renamed over the target, and the folder is fsynced so the rename
 * itself survives a power cut. A reader sees the old file or the new one, never a part.
 *
 * A process killed during a save leaves its temporary file behind. The next save of the same target
 * removes such leftovers — only files named as this module names them for that target, only those
 * last written before the running process started, and only when their writer's pid is not alive —
 * so a save in flight in another thread or process is never touched.
 */
import * as fs from 'fs';
import * as path from 'path';
import { randomBytes } from 'crypto';
import { describe, fail } from '../validate';

const TMP_RE = /^\.(.+)\.([0-9a-f]{16})\.(\d+)\.tmp$/;
const processStart = Date.now() - process.uptime() * 1000;

/** The temporary name of one save of `base` (exported for tests). */
export function temporaryName(base: string): string {
  return `.${base}.${randomBytes(8).toString('hex')}.${process.pid}.tmp`;
}

function alive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes temporaries of `base` in `dir` left by writers that died; returns how many. */
export function removeStaleTemporaries(dir: string, base: string): number {
  let removed = 0;
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return 0;
  }
  for (const n of names) {
    const m = TMP_RE.exec(n);
    if (!m || m[1] !== base) continue;
    const full = path.join(dir, n);
    try {
      const st = fs.lstatSync(full);
      if (!st.isFile() || st.mtimeMs >= processStart || alive(Number(m[3]))) continue;
      fs.unlinkSync(full);
      removed++;
    } catch {
      // gone already, or not ours to remove
    }
  }
  return removed;
}

/** A path argument: a non-empty string that is not a folder. */
export function checkPath(file: unknown, name: string): string {
  if (typeof file !== 'string') fail('type', 'file path string', name, describe(file));
  if (file.length === 0 || file.includes('\0')) fail('range', 'a non-empty file path', name, describe(file));
  return file;
}

function fsyncDir(dir: string): void {
  let fd: number | null = null;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch (e) {
    // Some file systems cannot fsync a folder (EINVAL, EISDIR, EPERM): the rename is still atomic.
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'EISDIR' && code !== 'EPERM' && code !== 'EBADF') throw e;
  } finally {
    if (fd !== null) fs.closeSync(fd);
  }
}

/** Writes `data` to `file` atomically (see the header). */
export function atomicWrite(file: string, data: Uint8Array): void {
  checkPath(file, 'path');
  const target = path.resolve(file);
  const dir = path.dirname(target);
  const base = path.basename(target);
  let st: fs.Stats | null = null;
  try {
    st = fs.statSync(target);
  } catch {
    // does not exist yet
  }
  if (st && st.isDirectory()) fail('range', 'a file path', 'path', `'${file}', which is a folder`);
  let dirStat: fs.Stats | null = null;
  try {
    dirStat = fs.statSync(dir);
  } catch {
    // reported below
  }
  if (!dirStat || !dirStat.isDirectory()) fail('range', 'a path in an existing folder', 'path', `'${file}' (no folder ${dir})`);
  removeStaleTemporaries(dir, base);
  const tmp = path.join(dir, temporaryName(base));
  let fd: number | null = null;
  try {
    fd = fs.openSync(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o644);
    let off = 0;
    while (off < data.length) off += fs.writeSync(fd, data, off, data.length - off);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = null;
    fs.renameSync(tmp, target);
  } catch (e) {
    if (fd !== null) fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  fsyncDir(dir);
}
