/** Why a file could not be read, in words ("file not found"), with the system's code after it for searching. */
export function fileProblem(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const words = code === undefined ? undefined : WORDS[code];
  return words ? `${words} (${code})` : (code ?? (err instanceof Error ? err.message : 'unreadable'));
}

const WORDS: Record<string, string> = {
  ENOENT: 'file not found',
  EACCES: 'permission denied',
  EPERM: 'not permitted',
  EISDIR: 'a directory, not a file',
  ENOTDIR: 'a part of the path is not a directory',
  ELOOP: 'too many symbolic links',
  ENAMETOOLONG: 'path too long',
  EMFILE: 'too many open files',
};
