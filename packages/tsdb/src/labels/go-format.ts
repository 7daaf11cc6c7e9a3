/**
 * Go's fmt `%g` for float64 (strconv.FormatFloat(v, 'g', -1, 64) plus fmt's sign rules),
 * which `promtool tsdb dump` uses for sample values. Shortest round-trip digits; exponent
 * form when the decimal exponent is < -4 or >= 21 is JS's rule, Go's is >= 6 for shortest.
 */
export function formatGoFloat(v: number): string {
  if (v !== v) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  if (v === 0) return Object.is(v, -0) ? "-0" : "0";
  // toExponential() without an argument yields the shortest digits that round-trip.
  const e = v.toExponential();
  const neg = e.charCodeAt(0) === 45; // '-'
  const body = neg ? e.slice(1) : e;
  const ePos = body.indexOf("e");
  const digits = body.slice(0, ePos).replace(".", "");
  const exp = Number(body.slice(ePos + 1));
  let out: string;
  if (exp < -4 || exp >= 6) {
    const mant = digits.length > 1 ? digits[0] + "." + digits.slice(1) : digits;
    const ax = Math.abs(exp);
    out = mant + "e" + (exp < 0 ? "-" : "+") + (ax < 10 ? "0" + ax : String(ax));
  } else if (exp < 0) {
    out = "0." + "0".repeat(-exp - 1) + digits;
  } else if (digits.length <= exp + 1) {
    out = digits + "0".repeat(exp + 1 - digits.length);
  } else {
    out = digits.slice(0, exp + 1) + "." + digits.slice(exp + 1);
  }
  return neg ? "-" + out : out;
}
