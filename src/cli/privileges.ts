/**
 * dhcpd's `-user` and `-group` (ISC's PARANOIA build, as Debian ships it; `-chroot` is chroot.ts). The user and group
 * are looked up at start (before the config is read) with ISC's messages; the switch happens after the
 * sockets are open, through {@link PrivilegeDrop.apply}, which the server calls once it has bound.
 */
import { chownSync, existsSync, readFileSync } from 'node:fs';

export interface PrivilegeDrop {
  uid: number | undefined;
  gid: number | undefined;
  user: string | undefined;
  /** Switches group then user (setgroups/initgroups first). Throws with ISC's wording on failure. */
  apply(): void;
}

interface PwEntry {
  name: string;
  uid: number;
  gid: number;
}

/** getpwnam/getgrnam from /etc/passwd and /etc/group (what glibc's files backend reads). */
function lookupFile(path: string, name: string): PwEntry | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f[0] === name && f.length >= 4) {
      return { name, uid: Number(f[2]), gid: Number(path.endsWith('group') ? f[2] : f[3]) };
    }
  }
  // ISC accepts numeric ids only through getpwnam; glibc does not map "123", neither do we.
  return undefined;
}

export type PrivilegeResult = { ok: true; drop: PrivilegeDrop | undefined } | { ok: false; message: string };

/**
 * Resolves -user/-group as ISC does: must be root ("you must be root to set user"), the user must exist
 * ("no such user: X"), the user's primary group is the default group, "-group" must exist.
 */
export function preparePrivilegeDrop(
  user: string | undefined,
  group: string | undefined,
  files: { passwd: string; group: string } = { passwd: '/etc/passwd', group: '/etc/group' },
): PrivilegeResult {
  if (user === undefined && group === undefined) return { ok: true, drop: undefined };
  const euid = process.geteuid?.() ?? 0;
  let uid: number | undefined;
  let gid: number | undefined;
  if (user !== undefined) {
    if (euid !== 0) return { ok: false, message: 'you must be root to set user' };
    const pw = lookupFile(files.passwd, user);
    if (!pw) return { ok: false, message: `no such user: ${user}` };
    uid = pw.uid;
    if (group === undefined) gid = pw.gid;
  }
  if (group !== undefined) {
    if (euid !== 0) return { ok: false, message: 'you must be root to set group' };
    const gr = lookupFile(files.group, group);
    if (!gr) return { ok: false, message: `no such group: ${group}` };
    gid = gr.gid;
  }
  const drop: PrivilegeDrop = {
    uid,
    gid,
    user,
    apply() {
      if (gid !== undefined) {
        // ISC 4.4.3 (dhcpd.c, PARANOIA) clears every supplementary group, fatally on failure.
        try {
          process.setgroups?.([]);
        } catch (e) {
          throw new Error(`setgroups: ${String((e as Error).message)}`);
        }
        try {
          process.setgid?.(gid);
        } catch (e) {
          throw new Error(`setgid(${gid}): ${String((e as Error).message)}`);
        }
      }
      if (uid !== undefined) {
        try {
          process.setuid?.(uid);
        } catch (e) {
          throw new Error(`setuid(${uid}): ${String((e as Error).message)}`);
        }
      }
    },
  };
  return { ok: true, drop };
}

/**
 * ISC (db.c new_lease_file, with -user/-group): the lease file is chowned to the user and group the server
 * will run as, so that it can keep writing it after the switch. Done here for every existing file of
 * `paths` (the -lf file, the database and its -wal/-shm files), while still root. Failures are logged
 * (ISC logs "Can't chown new lease file") and not fatal.
 */
export function chownForUser(paths: readonly string[], drop: Pick<PrivilegeDrop, 'uid' | 'gid'>, logger: { error(m: string): void }): void {
  if (drop.uid === undefined && drop.gid === undefined) return;
  for (const p of paths) {
    if (!existsSync(p)) continue;
    try {
      chownSync(p, drop.uid ?? -1, drop.gid ?? -1);
    } catch (e) {
      logger.error(`Can't chown ${p}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}
