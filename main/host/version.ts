// The app version, from package.json, recorded on every run.
import pkg from '../../package.json';

export const APP_VERSION: string = pkg.version;
