/** Makes untrusted text safe to print on a terminal: control characters become visible escapes. */

// C0 and C1 controls, DEL, line and paragraph separators, and the bidirectional marks and
// overrides that can disguise text (CVE-2021-42574). Every match is one UTF-16 unit (all sit in
// the BMP), so charCodeAt gives its code point.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g
/** What JSON.stringify leaves raw but a terminal may obey: C1 controls and bidi marks. */
const UNSAFE_IN_JSON = /[\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g

/**
 * `text` with every control character written as `\u{…}`, so a document's `module_id` or a
 * certificate's subject cannot move the cursor, rewrite earlier lines or change the terminal.
 */
export function printable(text: string): string {
  return text.replace(UNSAFE, (char) => `\\u{${char.charCodeAt(0).toString(16)}}`)
}

/** JSON text with the characters above written as `\\uXXXX` escapes: the same JSON value, safe to print. */
export function printableJson(json: string): string {
  return json.replace(
    UNSAFE_IN_JSON,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  )
}
