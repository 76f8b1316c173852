/**
 * @module executors/docker/oom-evidence
 * Whether the kernel's OOM killer fired inside a container's memory cgroup, read from the kernel log
 * (`/dev/kmsg`, root only). Docker reports `State.OOMKilled` itself; Podman 4 with cgroupfs on cgroup v1
 * does not (it reports 137 and `OOMKilled: false`), so for a local engine this is the evidence we use.
 * The kernel logs `oom-kill:constraint=CONSTRAINT_MEMCG,…,oom_memcg=/<parent>/<…container id…>,…`
 * before the killed task exits, so by the time the engine reports the exit the record is there.
 */
import { closeSync, constants, openSync, readSync } from 'node:fs';

/** true/false from the kernel log; undefined when it can't be read (not root, no /dev/kmsg). */
export function kernelLogShowsOomKill(containerId: string, kmsgPath = '/dev/kmsg'): boolean | undefined {
  if (containerId.length < 12) return undefined;
  let fd: number;
  try {
    fd = openSync(kmsgPath, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  const buf = Buffer.alloc(16 * 1024);
  let found = false;
  try {
    for (let i = 0; i < 1_000_000; i++) {
      let n: number;
      try {
        n = readSync(fd, buf, 0, buf.length, null);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EPIPE') continue; // the record was overwritten while we read: go on
        if (code === 'EAGAIN' || code === 'EWOULDBLOCK') break; // end of the buffer
        return undefined;
      }
      if (n <= 0) break;
      const rec = buf.toString('latin1', 0, n);
      if (rec.includes('oom-kill:') && rec.includes(containerId)) {
        found = true;
        break;
      }
    }
  } finally {
    closeSync(fd);
  }
  return found;
}
