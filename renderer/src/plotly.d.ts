// Minimal types for the parts of plotly.js-dist-min the renderer uses.
declare module 'plotly.js-dist-min' {
  const Plotly: {
    react(node: HTMLElement, data: Record<string, unknown>[], layout?: Record<string, unknown>, config?: Record<string, unknown>): Promise<unknown>;
    newPlot(node: HTMLElement, data: Record<string, unknown>[], layout?: Record<string, unknown>, config?: Record<string, unknown>): Promise<unknown>;
    purge(node: HTMLElement): void;
    toImage(node: HTMLElement, opts: { format: 'png' | 'svg'; width: number; height: number }): Promise<string>;
  };
  export default Plotly;
}
