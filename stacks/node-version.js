/** The Node requirement of the stack program, checked before any TypeScript is loaded. */

/** Oldest Node that runs `.ts` files as they are (type stripping on by default; 23.x from 23.6). */
export const MINIMUM_NODE = '22.18.0';

/**
 * Why `version` (e.g. `process.versions.node`) cannot run the program, or `undefined` when it can.
 * @param {string} version
 * @returns {string | undefined}
 */
export function nodeProblem(version) {
  const [major, minor] = version.split('.').map(Number);
  if (major >= 24 || (major === 23 && minor >= 6) || (major === 22 && minor >= 18)) return undefined;
  return (
    `minio-sse-kes: pulumi runs this program with the node on PATH, which is ${version}; it needs Node >= ${MINIMUM_NODE} ` +
    `(TypeScript type stripping). Run \`npm ci\` and put the project's Node first: export PATH="$PWD/node_modules/.bin:$PATH", ` +
    `or install Node 24.`
  );
}
