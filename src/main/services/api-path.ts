/** The query string of an /api/v1 path (with its "?"), leaving out parameters that say nothing. */
export const q = (params: Record<string, string | number | undefined>) => {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') search.set(k, String(v));
  const text = search.toString();
  return text ? `?${text}` : '';
};

/** One path segment of an /api/v1 path: an id never reaches another route. */
export const enc = encodeURIComponent;
