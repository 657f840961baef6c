// Path containment for anything served from disk (artifacts, the renderer build).
import { existsSync, realpathSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';

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

/** Lab-home folders whose files are served as artifacts (app protocol and `toklab serve`). */
const ARTIFACT_ROOTS = ['runs/', 'datasets/'];

/**
 * The file an artifact URL path (relative to the lab home, still URL-encoded) names, or null: only what
 * runs and datasets wrote is served, never the database, the lock or the logs, and nothing that escapes.
 */
export function artifactPath(home: string, rel: string): string | null {
  const root = ARTIFACT_ROOTS.find((r) => rel.startsWith(r));
  if (!root || !existsSync(join(home, root))) return null;
  return safeJoin(join(home, root), rel.slice(root.length));
}
