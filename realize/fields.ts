/**
 * Field checks: a realizer names every input field it translates, so a field a component starts
 * declaring cannot be dropped silently; realization stops with the resource and the field names.
 */

/** `true`: any value; an object: the allowed keys of an object value; `[spec]`: an array of such. */
export type FieldSpec = true | { readonly [field: string]: FieldSpec } | readonly [FieldSpec];

/** Paths of fields in `value` that `spec` does not allow. */
export function unknownFields(value: unknown, spec: FieldSpec, path = ''): string[] {
  if (spec === true || value === undefined || value === null) return [];
  if (Array.isArray(spec)) {
    if (!Array.isArray(value)) return [path || '(root)'];
    return value.flatMap((v, i) => unknownFields(v, spec[0], `${path}[${i}]`));
  }
  if (typeof value !== 'object' || Array.isArray(value)) return [path || '(root)'];
  const allowed = spec as { readonly [field: string]: FieldSpec };
  return Object.entries(value as Record<string, unknown>).flatMap(([k, v]) => {
    const p = path ? `${path}.${k}` : k;
    return k in allowed ? unknownFields(v, allowed[k], p) : [p];
  });
}

/** Throws when `inputs` holds a field `spec` does not allow. */
export function refuseUnknown(what: string, inputs: unknown, spec: FieldSpec): void {
  const extra = unknownFields(inputs, spec);
  if (extra.length > 0) throw new Error(`realize: ${what}: input field(s) not realized: ${extra.join(', ')}`);
}
