import autocannon from "autocannon";

/**
 * Runs autocannon once and collects what every bench script reports: autocannon's result, each
 * response's latency (for exact percentiles), the count per status, and socket errors by code
 * (ECONNRESET, EPIPE, a timeout…: says which side gave up). Shared by bench, bench:load, bench:peer.
 * With `workers`, the load runs in worker threads, off this thread, which then stays free for
 * the server's own log pipe (see bench:load); the codes and latencies are then not reported.
 */
export function runAutocannon(options) {
  return new Promise((resolve, reject) => {
    const latencies = [];
    const statuses = new Map();
    const errorCodes = new Map();
    if (options.workers) {
      // In worker threads autocannon emits no per-response events: statuses from its own tally,
      // timeouts apart from the other socket errors, no latency list.
      autocannon(options, (error, result) => {
        if (error) return reject(error);
        for (const [status, { count }] of Object.entries(result.statusCodeStats ?? {})) statuses.set(Number(status), count);
        if (result.timeouts > 0) errorCodes.set("request timed out", result.timeouts);
        if (result.errors > result.timeouts) errorCodes.set("other (not classified in worker threads)", result.errors - result.timeouts);
        resolve({ result, latencies, statuses, errorCodes });
      });
      return;
    }
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
