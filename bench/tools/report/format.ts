/**
 * Numbers as the report prints them (the tables and the chart's labels).
 * @module
 */

/** About 3 significant digits; thousands get separators and no decimals (1234 → "1,234"). */
export function fmtNum(x: number): string {
  if (!Number.isFinite(x)) return "—";
  if (Math.abs(x) >= 1000) return x.toLocaleString("en-US", { maximumFractionDigits: 0 });
  if (x === 0) return "0";
  return x.toLocaleString("en-US", { minimumSignificantDigits: 3, maximumSignificantDigits: 3 });
}

/** Ratios: two decimals and "×". */
export function fmtRatio(x: number): string {
  if (!Number.isFinite(x)) return "—";
  return `${x.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}×`;
}
