/**
 * Entry point `Pulumi.yaml` names. Plain JavaScript, so it loads on any Node: Pulumi runs the
 * program with the `node` on PATH, and the TypeScript program needs type stripping (Node >= 22.18).
 * An older Node gets this message instead of ERR_UNKNOWN_FILE_EXTENSION.
 */
import { nodeProblem } from './node-version.js';

export default async function program() {
  const problem = nodeProblem(process.versions.node);
  if (problem) throw new Error(problem);
  return { ...(await import('./index.ts')) };
}
