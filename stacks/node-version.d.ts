/** Oldest Node that runs `.ts` files as they are. */
export declare const MINIMUM_NODE: string;
/** Why `version` cannot run the program, or `undefined` when it can. */
export declare function nodeProblem(version: string): string | undefined;
