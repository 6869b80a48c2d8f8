/** Vite's `?raw` imports: a file's text (tests compare documentation with the code). */
declare module "*.md?raw" {
  const text: string;
  export default text;
}
