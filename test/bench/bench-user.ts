import { execFileSync } from 'node:child_process';

export interface BenchUser {
  name: string;
  uid: number;
  gid: number;
}

const NAME = 'bench';

/** The unprivileged user fetchmail and getmail6 run as (both refuse or misbehave as root). */
export function ensureBenchUser(): BenchUser {
  const id = (flag: string) =>
    Number(
      execFileSync('id', [flag, NAME], { stdio: ['ignore', 'pipe', 'ignore'] })
        .toString()
        .trim(),
    );
  try {
    return { name: NAME, uid: id('-u'), gid: id('-g') };
  } catch {
    execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', NAME], { stdio: 'ignore' });
    return { name: NAME, uid: id('-u'), gid: id('-g') };
  }
}

export function chownTree(dir: string, u: BenchUser): void {
  execFileSync('chown', ['-R', `${u.uid}:${u.gid}`, dir]);
}
