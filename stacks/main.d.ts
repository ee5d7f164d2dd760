/** The program for Pulumi: checks the Node version, then declares the stack; resolves to its outputs. */
export default function program(): Promise<Record<string, unknown>>;
