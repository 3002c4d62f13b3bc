//! Logs, traces and trace-context propagation.
//!
//! Logs are JSON by default. Traces are exported over OTLP/gRPC when
//! `telemetry.otlp_endpoint` is set, and silently off otherwise. W3C trace
//! context travels in gRPC metadata, in outbox rows, and in NATS headers, so
//! one trace follows a change from the partner's request to its consumers.

use std::collections::HashMap;

use opentelemetry::propagation::{Extractor, Injector};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing::Span;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use crate::config::TelemetrySettings;

/// Keeps the trace exporter alive; call [`Telemetry::shutdown`] on exit so
/// buffered spans are flushed.
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Telemetry {
    pub fn shutdown(self) {
        if let Some(p) = self.provider
            && let Err(e) = p.shutdown()
        {
            eprintln!("trace exporter shutdown: {e}");
        }
    }
}

/// Installs the global subscriber and propagator. Call once per process.
pub fn init(service: &str, settings: &TelemetrySettings) -> anyhow::Result<Telemetry> {
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    let filter = EnvFilter::try_new(&settings.log_filter)
        .map_err(|e| anyhow::anyhow!("telemetry.log_filter is invalid: {e}"))?;
    let fmt = if settings.log_format == "pretty" {
        tracing_subscriber::fmt::layer().with_target(true).boxed()
    } else {
        tracing_subscriber::fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .boxed()
    };

    let provider = match settings.otlp_endpoint.as_deref().filter(|e| !e.is_empty()) {
        None => None,
        Some(endpoint) => {
            let exporter = opentelemetry_otlp::SpanExporter::builder()
                .with_tonic()
                .with_endpoint(endpoint)
                .build()
                .map_err(|e| anyhow::anyhow!("OTLP exporter for {endpoint}: {e}"))?;
            let resource = opentelemetry_sdk::Resource::builder()
                .with_service_name(format!("prm-{service}"))
                .build();
            Some(
                SdkTracerProvider::builder()
                    .with_batch_exporter(exporter)
                    .with_resource(resource)
                    .build(),
            )
        }
    };
    let otel = provider.as_ref().map(|p| {
        tracing_opentelemetry::layer()
            .with_tracer(p.tracer(format!("prm-{service}")))
            .with_filter(EnvFilter::new("info"))
    });
    tracing_subscriber::registry()
        .with(filter)
        .with(fmt)
        .with(otel)
        .try_init()
        .map_err(|e| anyhow::anyhow!("a tracing subscriber is already installed: {e}"))?;
    Ok(Telemetry { provider })
}

/// For tests: a plain subscriber, installed at most once per process.
pub fn init_for_tests() {
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    let _ = tracing_subscriber::registry()
        .with(EnvFilter::try_from_env("PRM_TEST_LOG").unwrap_or_else(|_| EnvFilter::new("warn")))
        .with(tracing_subscriber::fmt::layer().with_test_writer())
        .try_init();
}

struct HttpHeaders<'a>(&'a http::HeaderMap);

impl Extractor for HttpHeaders<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }
    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|k| k.as_str()).collect()
    }
}

struct MapCarrier<'a>(&'a mut HashMap<String, String>);

impl Injector for MapCarrier<'_> {
    fn set(&mut self, key: &str, value: String) {
        self.0.insert(key.to_owned(), value);
    }
}

struct MapReader<'a>(&'a HashMap<String, String>);

impl Extractor for MapReader<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }
    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(String::as_str).collect()
    }
}

/// Makes `span` a child of the trace context in `headers` (`traceparent`).
pub fn adopt_remote_parent(span: &Span, headers: &http::HeaderMap) {
    let cx = opentelemetry::global::get_text_map_propagator(|p| p.extract(&HttpHeaders(headers)));
    let _ = span.set_parent(cx);
}

/// Makes `span` a child of a trace context stored as a map (outbox rows,
/// NATS headers).
pub fn adopt_parent_from_map(span: &Span, map: &HashMap<String, String>) {
    let cx = opentelemetry::global::get_text_map_propagator(|p| p.extract(&MapReader(map)));
    let _ = span.set_parent(cx);
}

/// The current span's trace context as `traceparent`/`tracestate` entries.
pub fn current_trace_context() -> HashMap<String, String> {
    let mut map = HashMap::new();
    let cx = Span::current().context();
    opentelemetry::global::get_text_map_propagator(|p| {
        p.inject_context(&cx, &mut MapCarrier(&mut map))
    });
    map
}

/// The span each gRPC request runs in, continuing the caller's trace.
pub fn grpc_request_span(request: &http::Request<()>) -> Span {
    let path = request.uri().path();
    let span = tracing::info_span!(
        "grpc.request",
        otel.kind = "server",
        otel.name = %path,
        rpc.system = "grpc",
        rpc.method = %path,
    );
    adopt_remote_parent(&span, request.headers());
    span
}
