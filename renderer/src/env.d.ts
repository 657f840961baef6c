// Side-effect imports of stylesheets handled by Vite.
declare module '*.css';
