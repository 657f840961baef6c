// Path containment for anything served from disk (artifacts, the renderer build).
import { existsSync, realpathSync } from 'node:fs';
import { resolve, sep } from 'node:path';

/** A path inside `root`, or null when it escapes it (.., symlinks, absolute paths, bad escapes). */
export function safeJoin(root: string, rel: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(rel);
  } catch {
    return null;
  }
  if (decoded.includes('\0')) return null;
  const rootReal = realpathSync(root);
  const p = resolve(rootReal, '.' + sep + decoded);
  if (p !== rootReal && !p.startsWith(rootReal + sep)) return null;
  if (!existsSync(p)) return p;
  const real = realpathSync(p);
  return real === rootReal || real.startsWith(rootReal + sep) ? real : null;
}
