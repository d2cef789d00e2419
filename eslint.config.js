// ESLint flat config: typescript-eslint strict type-checked rules and the import walls between
// enclave/, parent/ and shared/ (../shared/DESIGN.md §2, §6).
import js from '@eslint/js'
import tseslint from 'typescript-eslint'

const nodeIo = [
  'node:fs',
  'node:fs/promises',
  'node:net',
  'node:http',
  'node:https',
  'node:child_process',
  'node:dgram',
  'node:worker_threads',
]

export default tseslint.config(
  // test/fixtures/ holds plain scripts that run inside the sandbox in place of the enclave.
  {
    ignores: [
      'test/fixtures/',
      'dist/',
      'node_modules/',
      'coverage/',
      '.tap/',
      'scripts/cloister.js',
      'eslint.config.js',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    files: ['shared/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeIo.map((name) => ({ name, message: 'shared/ does no I/O.' })),
          patterns: [
            {
              group: ['**/enclave/**', '**/parent/**', '**/scripts/**'],
              message: 'shared/ imports only shared/.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['enclave/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            ...nodeIo.map((name) => ({ name, message: 'The enclave has no disk and no network.' })),
            { name: 'fastify', message: 'The enclave serves no HTTP.' },
          ],
          patterns: [
            {
              group: ['**/parent/**', '**/scripts/**'],
              message: 'enclave/ imports only shared/ and itself.',
            },
          ],
        },
      ],
    },
  },
  {
    // The one place the enclave touches a socket: the descriptor its launcher passed.
    files: ['enclave/transport/**/*.ts'],
    rules: { 'no-restricted-imports': 'off' },
  },
  {
    // HTTP/1.1 framing for the KMS client over the enclave's own TLS on a relayed stream: node:http
    // is given that stream (`createConnection`) and opens no socket of its own.
    files: ['enclave/kms/relay-http-handler.ts'],
    rules: { 'no-restricted-imports': 'off' },
  },
  {
    files: ['parent/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/enclave/**'],
              message: 'parent/ never imports enclave/: it talks to it over frames.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      // tap's t.test() returns a promise that tap itself awaits.
      '@typescript-eslint/no-floating-promises': 'off',
      // t.throws(() => call()) is the idiom for asserting a thrown code.
      '@typescript-eslint/no-confusing-void-expression': 'off',
    },
  },
)
