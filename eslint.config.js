// One flat config. Dependency-direction rules (house style rule 3) live here.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'native/**', 'bench/results/**', 'src/web/static/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      eqeqeq: ['error', 'always'],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'warn',
      'no-empty': ['error', { allowEmptyCatch: true }],
    },
  },
  {
    // core/ is pure: no node I/O, no api/, no adapters.
    files: ['src/core/**/*.ts'],
    ignores: ['src/core/**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['node:fs', 'node:child_process', 'node:net', 'node:http', 'fs', 'child_process'], message: 'core/ does no I/O' },
            { group: ['**/api/**', '**/store/sqlite/**', '**/store/postgres/**', '**/executors/**'], message: 'core/ must not import api/ or adapters' },
          ],
        },
      ],
    },
  },
  {
    // api/ talks to the store only through its port.
    files: ['src/api/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/store/sqlite/**', '**/store/postgres/**', '**/executors/*/**'], message: 'api/ uses ports only' }] }],
    },
  },
);
