/** The enclave bundle's entry point: runs `main` and turns a failed boot into a non-zero exit. */

import { main } from './main.js'

main(process.argv.slice(2)).catch(() => {
  // No detail on stderr: it reaches the untrusted host. The supervisor sees the exit status.
  process.exit(70) // EX_SOFTWARE
})
