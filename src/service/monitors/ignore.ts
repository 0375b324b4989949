/**
 * Paths the file monitor never reports: meow's own state folder (the state
 * monitor owns it), notebook checkpoints, caches, and editors' temporary files.
 */

/** Path segments never treated as workgroup data. */
const IGNORED_SEGMENTS = new Set(['.ipynb_checkpoints', '__pycache__', '.git']);

/** Temporary files of editors, office suites, downloads and rsync. */
const TEMP_FILE = [
  /^\.~lock\..*#$/, // LibreOffice lock
  /^~\$/, // MS Office owner file
  /~$/, // emacs/gedit backup
  /^\.#/, // emacs lock
  /^#.*#$/, // emacs autosave
  /\.sw[a-p]$/, // vim swap
  /^\..*\.sw[a-p]$/,
  /\.(tmp|temp|part|crdownload|partial)$/i // downloads, meow's atomic writes
];

/** True for paths the monitor never reports (relative POSIX path). */
export function isIgnoredPath(rel: string, stateDir: string): boolean {
  if (rel === '' || rel === '.') {
    return false;
  }
  if (rel === stateDir || rel.startsWith(stateDir + '/')) {
    return true;
  }
  const segments = rel.split('/');
  if (segments.some(s => IGNORED_SEGMENTS.has(s))) {
    return true;
  }
  const name = segments[segments.length - 1];
  return TEMP_FILE.some(re => re.test(name));
}
