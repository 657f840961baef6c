// The error every spec validator throws: names the field, what is wrong and how to fix it.
export class SpecError extends Error {
  constructor(
    readonly field: string,
    problem: string,
    fix: string,
  ) {
    super(`${field}: ${problem}. ${fix}`);
    this.name = 'SpecError';
  }
}

type Obj = Record<string, unknown>;

export function asObject(v: unknown, field = 'spec'): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new SpecError(field, 'must be an object', 'Pass a JSON object.');
  return v as Obj;
}

export function num(o: Obj, key: string, def: number, min: number, max: number, integer = false): number {
  const v = o[key] ?? def;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new SpecError(key, `must be a number, got ${JSON.stringify(v)}`, `Use a number between ${min} and ${max}.`);
  if (integer && !Number.isInteger(v)) throw new SpecError(key, `must be a whole number, got ${v}`, `Use an integer between ${min} and ${max}.`);
  if (v < min || v > max) throw new SpecError(key, `is ${v}, outside [${min}, ${max}]`, `Use a value between ${min} and ${max}.`);
  return v;
}

export function str<T extends string>(o: Obj, key: string, def: T, allowed?: readonly T[]): T {
  const v = o[key] ?? def;
  if (typeof v !== 'string') throw new SpecError(key, `must be a string, got ${JSON.stringify(v)}`, allowed ? `Use one of: ${allowed.join(', ')}.` : 'Pass a string.');
  if (allowed && !allowed.includes(v as T)) throw new SpecError(key, `is "${v}"`, `Use one of: ${allowed.join(', ')}.`);
  return v as T;
}

export function bool(o: Obj, key: string, def: boolean): boolean {
  const v = o[key] ?? def;
  if (typeof v !== 'boolean') throw new SpecError(key, `must be true or false, got ${JSON.stringify(v)}`, 'Use true or false.');
  return v;
}

export function numList(o: Obj, key: string, def: number[], min: number, max: number): number[] {
  const v = o[key] ?? def;
  if (!Array.isArray(v) || v.length === 0) throw new SpecError(key, 'must be a non-empty list of numbers', `Give e.g. [${def.join(', ')}].`);
  return v.map((x, i) => num({ [`${key}[${i}]`]: x }, `${key}[${i}]`, 0, min, max));
}

/** Total bytes of named parts of a memory estimate, and the largest part as "name ≈ x GiB". */
export function memoryEstimate(parts: [string, number][]): { bytes: number; largest: string } {
  const bytes = parts.reduce((a, [, b]) => a + b, 0);
  const [name, size] = parts.reduce((a, b) => (b[1] > a[1] ? b : a));
  return { bytes, largest: `${name} ≈ ${(size / 2 ** 30).toFixed(1)} GiB` };
}
