// electron-vite resolves `?asset` imports to a file path at build time.
declare module '*?asset' {
  const path: string;
  export default path;
}
