/**
 * @module cli/shell-words
 * Split a command string the way a POSIX shell would for simple cases: whitespace separates
 * words, single quotes are literal, double quotes allow \" and \\, a backslash escapes outside quotes.
 */
import { CliError } from './errors.js';

export function splitShellWords(text: string): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quote === "'") {
      if (ch === "'") quote = undefined;
      else cur += ch;
      continue;
    }
    if (quote === '"') {
      if (ch === '"') quote = undefined;
      else if (ch === '\\' && (text[i + 1] === '"' || text[i + 1] === '\\' || text[i + 1] === '$'))
        cur += text[++i];
      else cur += ch;
      continue;
    }
    if (ch === "'" || ch === '"') {
      quote = ch;
      inWord = true;
    } else if (ch === '\\' && i + 1 < text.length) {
      cur += text[++i];
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += ch;
      inWord = true;
    }
  }
  if (quote)
    throw new CliError(`Unterminated ${quote === '"' ? 'double' : 'single'} quote in command: ${text}`);
  if (inWord) words.push(cur);
  return words;
}
