/** The URL of the entry of the bundle in `dir`, if it was built after its sources' last change. */
export function freshBundle(dir: string | undefined): string | undefined;
