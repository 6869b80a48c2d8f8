import autocannon from "autocannon";

/**
 * Runs autocannon once and collects what every bench script reports: autocannon's result, each
 * response's latency (for exact percentiles), the count per status, and socket errors by code
 * (ECONNRESET, EPIPE, a timeout…: says which side gave up). Shared by bench, bench:load, bench:peer.
 */
export function runAutocannon(options) {
  return new Promise((resolve, reject) => {
    const latencies = [];
    const statuses = new Map();
    const errorCodes = new Map();
    const instance = autocannon(options, (error, result) => (error ? reject(error) : resolve({ result, latencies, statuses, errorCodes })));
    instance.on("response", (_client, status, _bytes, responseTime) => {
      latencies.push(responseTime);
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    });
    instance.on("reqError", (error) => {
      const code = error?.code ?? error?.message ?? "unknown";
      errorCodes.set(code, (errorCodes.get(code) ?? 0) + 1);
    });
  });
}
