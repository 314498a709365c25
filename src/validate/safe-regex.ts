/**
 * Refuses regular expressions that can backtrack catastrophically on
 * JavaScript's backtracking engine: nested quantifiers (star height above 1,
 * as in `(a+)+` or `(\w*\s?)*`), quantified alternations whose branches can
 * match the same text are left to the nested rule's conservative side, and
 * backreferences. A conservative check: it may refuse a safe pattern, never
 * pass one with nested quantifiers. Linear in the pattern's length.
 */
export function unsafeRegexReason(pattern: string): string | null {
  // For each open group: does its content contain a quantifier?
  const stack: boolean[] = [];
  let lastGroupHadQuantifier = false;
  let afterGroup = false;
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      const next = pattern[i + 1] ?? '';
      if (!inClass && /[1-9k]/.test(next)) return 'backreferences are not allowed';
      i++;
      afterGroup = false;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') {
      inClass = true;
      afterGroup = false;
      continue;
    }
    if (c === '(') {
      stack.push(false);
      afterGroup = false;
      continue;
    }
    if (c === ')') {
      lastGroupHadQuantifier = stack.pop() ?? false;
      afterGroup = true;
      continue;
    }
    const quantifier = c === '*' || c === '+' || c === '?' || (c === '{' && /^\{\d+(,\d*)?\}/.test(pattern.slice(i, i + 16)));
    if (quantifier) {
      const unbounded = c === '*' || c === '+' || (c === '{' && /^\{\d+,(\d{3,})?\}/.test(pattern.slice(i, i + 16)));
      if (afterGroup && lastGroupHadQuantifier && unbounded) return `nested quantifier at offset ${i}`;
      if (stack.length > 0 && c !== '?') stack[stack.length - 1] = true;
      if (afterGroup && lastGroupHadQuantifier && stack.length > 0) stack[stack.length - 1] = true;
      if (c === '{') i = pattern.indexOf('}', i);
      afterGroup = false;
      continue;
    }
    afterGroup = false;
  }
  return null;
}
