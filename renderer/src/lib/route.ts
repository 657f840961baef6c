// Hash routes: `#Page` for the pages, `#runs/ID` for a run's detail and `#compare/ID,ID,…` for the
// Compare view (both on the Runs page). Pure (test/main/renderer-run-columns.test.ts).

export interface Route {
  page: string;
  /** The run whose detail is open (`#runs/12`). */
  runId: number | null;
  /** The runs compared (`#compare/3,5`), in the order given. */
  compare: number[] | null;
}

const ids = (s: string): number[] | null => {
  const parts = s.split(',').map((x) => x.trim()).filter(Boolean);
  if (!parts.length || !parts.every((x) => /^\d+$/.test(x))) return null;
  return [...new Set(parts.map(Number))];
};

/** `#runs/12` → the Runs page with run 12 open; a page name (any case) → that page; anything else → `fallback`. */
export function parseHash(hash: string, pages: readonly string[], fallback = 'Runs'): Route {
  let h = hash.startsWith('#') ? hash.slice(1) : hash;
  try {
    h = decodeURIComponent(h);
  } catch {
    // a stray % : read as is
  }
  const m = /^(runs|compare)\/(.+)$/i.exec(h);
  if (m) {
    if (m[1].toLowerCase() === 'runs') {
      const id = /^\d+$/.test(m[2]) ? Number(m[2]) : null;
      return { page: 'Runs', runId: id, compare: null };
    }
    return { page: 'Runs', runId: null, compare: ids(m[2]) };
  }
  const page = pages.find((p) => p.toLowerCase() === h.toLowerCase());
  return { page: page ?? fallback, runId: null, compare: null };
}

export const runHash = (id: number): string => `#runs/${id}`;
export const compareHash = (ids: number[]): string => `#compare/${ids.join(',')}`;
