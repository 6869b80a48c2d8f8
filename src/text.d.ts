/**
 * `.txt` files imported statically are Text modules (wrangler's default module rule, and
 * vitest-pool-workers in tests): the import is the file's content as a string. Data such as
 * src/data/common-passwords.txt ships this way instead of as generated TypeScript.
 */
declare module "*.txt" {
  const text: string;
  export default text;
}
