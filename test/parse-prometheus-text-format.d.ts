declare module "parse-prometheus-text-format" {
  /** Parses the Prometheus text exposition format into metric families (see the package README). */
  export default function parsePrometheusTextFormat(text: string): unknown[];
}
