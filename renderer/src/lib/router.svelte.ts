// The current hash route as reactive state. Opening a run or a comparison pushes a history entry
// (so back/forward move between them); the page navigation replaces the current one, as before.
import { PAGES, type PageName } from '../../../preload/contract';
import { parseHash, type Route } from './route';

class Router {
  route = $state<Route>(parseHash(location.hash, PAGES));

  constructor() {
    // back/forward fire popstate (and hashchange where only the fragment differs); both re-read the address
    const sync = (): void => {
      const next = parseHash(location.hash, PAGES);
      if (JSON.stringify(next) !== JSON.stringify(this.route)) this.route = next;
    };
    window.addEventListener('hashchange', sync);
    window.addEventListener('popstate', sync);
  }

  get page(): PageName {
    return this.route.page as PageName;
  }

  /** Goes to `#…`: a new history entry, or in place of the current one with `replace`. */
  navigate(hash: string, opts: { replace?: boolean } = {}): void {
    const h = hash.startsWith('#') ? hash : `#${hash}`;
    const url = `${location.pathname}${location.search}${h}`;
    if (location.hash === h) return;
    if (opts.replace) history.replaceState(null, '', url);
    else history.pushState(null, '', url);
    this.route = parseHash(h, PAGES);
  }
}

export const router = new Router();
