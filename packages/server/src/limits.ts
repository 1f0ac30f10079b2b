/** The largest request body accepted anywhere (R46). */
export const BODY_LIMIT_BYTES = 64 * 1024;
