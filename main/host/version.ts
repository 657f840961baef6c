// The app version, from package.json, recorded on every run (a named import keeps the rest of
// package.json out of the Electron bundle).
import { version } from '../../package.json';

export const APP_VERSION: string = version;
