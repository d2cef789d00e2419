/** Makes untrusted text safe to print on a terminal: control characters become visible escapes. */

// C0 and C1 controls, DEL, and the bidirectional overrides that can disguise text (CVE-2021-42574).
// Every match is one UTF-16 unit (all sit in the BMP), so charCodeAt gives its code point.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g

/**
 * `text` with every control character written as `\u{…}`, so a document's `module_id` or a
 * certificate's subject cannot move the cursor, rewrite earlier lines or change the terminal.
 */
export function printable(text: string): string {
  return text.replace(UNSAFE, (char) => `\\u{${char.charCodeAt(0).toString(16)}}`)
}
