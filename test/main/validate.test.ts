// Host-side input validation: every front door's calls go through dispatch().
import { describe, expect, it } from 'vitest';
import type { LabApi } from '../../preload/contract';
import { dispatch } from '../../main/host/validate';

const calls: unknown[][] = [];
const fake = new Proxy({} as LabApi, {
  get: (_, m) => async (...a: unknown[]) => {
    calls.push([m, ...a]);
    return 'ok';
  },
});

describe('dispatch', () => {
  it('refuses unknown methods and malformed arguments before any handler runs', async () => {
    calls.length = 0;
    await expect(dispatch(fake, 'rmrf', [])).rejects.toThrow(/unknown method/);
    await expect(dispatch(fake, 'getRun', ['1'])).rejects.toThrow(/positive whole number/);
    await expect(dispatch(fake, 'getRun', [-3])).rejects.toThrow(/positive whole number/);
    await expect(dispatch(fake, 'startJob', [{ kind: 'format-disk', spec: {} }])).rejects.toThrow(/kind must be one of/);
    await expect(dispatch(fake, 'startJob', [{ kind: 'selftest', spec: [] }])).rejects.toThrow(/spec .*must be an object/);
    // null is not "no spec": refused, not turned into a default job (#12)
    await expect(dispatch(fake, 'startJob', [{ kind: 'selftest', spec: null }])).rejects.toThrow(/spec .*must be an object/);
    await expect(dispatch(fake, 'listRuns', [{ status: 'weird' }])).rejects.toThrow(/query.status/);
    await expect(dispatch(fake, 'setRunTags', [1, 'x'])).rejects.toThrow(/tags must be a list/);
    await expect(dispatch(fake, 'getRun', 'x')).rejects.toThrow(/params must be a list/);
    expect(calls).toEqual([]);
  });

  it('passes validated arguments through', async () => {
    calls.length = 0;
    await dispatch(fake, 'getRun', [4]);
    await dispatch(fake, 'startJob', [{ kind: 'selftest', spec: { steps: 2 }, name: 'n' }]);
    expect(calls).toEqual([
      ['getRun', 4],
      ['startJob', { kind: 'selftest', spec: { steps: 2 }, name: 'n' }],
    ]);
  });
});
