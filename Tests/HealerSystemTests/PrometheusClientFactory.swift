import HealerPrometheus

enum PrometheusClientFactory {
    static func make(url: String) -> PrometheusClient {
        PrometheusClient(configuration: PrometheusConfiguration(url: url))
    }
}
