/** The API version, reported by /health and the OpenAPI document. Keep in step with package.json. */
export const APP_VERSION = "0.1.0";
