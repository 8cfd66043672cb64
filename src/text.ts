/**
 * Text that crosses the store: identifiers (ids, task and queue names, idempotency keys, step and
 * pool names) and free text (error messages, revoke reasons).
 *
 * Both must be well-formed UTF-16. A lone surrogate — half of a character outside the BMP, left
 * by cutting text in the middle of an emoji — has no UTF-8 form: Redis would receive U+FFFD in
 * its place (two different keys becoming one), and Redis' JSON decoder refuses its `\ud83d`
 * escape outright. So identifiers holding one are refused (store/checks.ts), and free text the
 * user's code produced (an error's message) has it replaced by U+FFFD.
 */
/** A high surrogate not followed by a low one, or a low one not preceded by a high one. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const LONE_SURROGATES = new RegExp(LONE_SURROGATE.source, 'g');

/** The index of the first lone surrogate of `text`, or -1 when it is well-formed. */
export function loneSurrogateAt(text: string): number {
  return text.search(LONE_SURROGATE);
}

/** `text` with every lone surrogate replaced by U+FFFD (what `String.prototype.toWellFormed` does). */
export function wellFormed(text: string): string {
  return loneSurrogateAt(text) < 0 ? text : text.replace(LONE_SURROGATES, '\ufffd');
}
