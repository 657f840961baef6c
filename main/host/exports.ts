// Figure and table exports under <home>/exports/: the same headless renderer as `toklab export`.
import type { FigureExportRequest, TableExportRequest } from '../../preload/contract';

export async function exportFigure(_home: string, _req: FigureExportRequest): Promise<string[]> {
  throw new Error('exportFigure is not implemented yet');
}

export function exportTable(_home: string, _req: TableExportRequest): string[] {
  throw new Error('exportTable is not implemented yet');
}

/** Host-side validation of an exportFigure argument (it came over IPC / WebSocket). */
export function figureExportRequest(v: unknown): FigureExportRequest {
  return v as FigureExportRequest;
}

/** Host-side validation of an exportTable argument. */
export function tableExportRequest(v: unknown): TableExportRequest {
  return v as TableExportRequest;
}
