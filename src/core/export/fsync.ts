// Durability before a rename makes a directory visible: every file's data and every directory entry is flushed, so a
// crash right after publishing cannot leave a version whose files are empty or missing (rename is atomic, but only
// orders metadata; the data must already be on disk).
import { open, readdir } from 'node:fs/promises';
import path from 'node:path';

/** fsyncs every file under `dir`, then each directory (children first), then `dir` itself. */
export async function fsyncTree(dir: string): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) await fsyncTree(p);
    else if (entry.isFile()) await fsyncPath(p);
  }
  await fsyncPath(dir);
}

/** fsync of one file or directory (directories are opened read-only, which Linux allows for fsync). */
export async function fsyncPath(p: string): Promise<void> {
  const fh = await open(p, 'r');
  try {
    await fh.sync();
  } catch (err) {
    // Some filesystems refuse fsync on directories (EINVAL/EISDIR); the data fsyncs above still happened.
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'EISDIR' && code !== 'EPERM') throw err;
  } finally {
    await fh.close();
  }
}
