import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'local_data/', '.cache/', 'test-results/', 'media/dist/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', __dirname: 'readonly', require: 'readonly', Buffer: 'readonly' },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-require-imports': 'off',
    },
  },
  // TypeScript itself checks names (Node and DOM globals alike).
  { files: ['**/*.ts'], rules: { 'no-undef': 'off' } },
  // Long lines hide their tail in side-by-side diffs and reviews; Prettier wraps code at 140 but not strings or comments.
  { files: ['**/*.ts', '**/*.mjs'], rules: { 'max-len': ['error', { code: 140, ignoreUrls: true }] } },
);
