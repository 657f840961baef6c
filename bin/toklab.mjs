#!/usr/bin/env node
// toklab CLI entry: runs the TypeScript sources through tsx, so it works right after `npm ci`.
import { register } from 'tsx/esm/api';

register();
await import('../main/cli/index.ts');
