// The desktop app's native menu, checked without Electron: every page and the export have a
// shortcut, no shortcut is taken twice, the items do what they say, and a reopen passes --home.
import { describe, expect, it } from 'vitest';
import type { MenuItemConstructorOptions } from 'electron';
import { homeArg, menuTemplate } from '../../main/electron/menu';
import type { MenuAction } from '../../preload/contract';
import { PAGES } from '../../preload/contract';

function items(t: MenuItemConstructorOptions[]): MenuItemConstructorOptions[] {
  return t.flatMap((i) => [i, ...(Array.isArray(i.submenu) ? items(i.submenu) : [])]);
}

const click = (i: MenuItemConstructorOptions): void => (i.click as unknown as () => void)();

describe('native menu', () => {
  for (const isMac of [false, true]) {
    it(`has a shortcut for every page, export and the lab home, each once (${isMac ? 'macOS' : 'Linux/Windows'})`, () => {
      const sent: MenuAction[] = [];
      let opened = 0;
      let shown = 0;
      const t = menuTemplate({ isMac, send: (a) => sent.push(a), openHome: () => opened++, showHome: () => shown++ });
      const all = items(t);
      const accels = all.map((i) => i.accelerator).filter((a): a is string => typeof a === 'string');
      expect(new Set(accels).size).toBe(accels.length);
      for (const [i, page] of PAGES.entries()) {
        const item = all.find((x) => x.label === page)!;
        expect(item.accelerator).toBe(`CmdOrCtrl+${i + 1}`);
        click(item);
        expect(sent[sent.length - 1]).toEqual({ kind: 'page', page });
      }
      click(all.find((x) => x.label === 'Export Chart…')!);
      expect(sent[sent.length - 1]).toEqual({ kind: 'export' });
      click(all.find((x) => x.label === 'Open Lab Home…')!);
      click(all.find((x) => x.label === 'Show Lab Home in Folder')!);
      expect([opened, shown]).toEqual([1, 1]);
      expect(t.some((x) => x.role === 'appMenu')).toBe(isMac);
    });
  }

  it('reads the lab home a reopen passes', () => {
    expect(homeArg(['/app', '--home=/data/lab'])).toBe('/data/lab');
    expect(homeArg(['/app', '--home', '/data/lab2'])).toBe('/data/lab2');
    expect(homeArg(['/app'])).toBeUndefined();
  });
});
