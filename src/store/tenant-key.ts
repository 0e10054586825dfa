/**
 * The object-key segment that holds a tenant's chunks. Loki's tenant alphabet (a-z A-Z 0-9 ! - _ . * ' ( ))
 * allows ids such as `a..b`, `...` or `.narvi-tmp-x` that no store may use as a path segment: `..` is
 * refused everywhere and a leading dot names hidden and temporary files of the filesystem store. Such ids
 * have every '.' written as `%2E`; '%' is outside the tenant alphabet, so an encoded segment never equals
 * another tenant's plain one, and never starts with '.'. Every other id is its own segment, as it always
 * was, so existing chunk keys stay where they are (the index keeps each chunk's full key in any case).
 */
export function tenantKeySegment(tenant: string): string {
  if (!tenant.startsWith('.') && !tenant.includes('..')) return tenant;
  return tenant.replace(/\./g, '%2E');
}
