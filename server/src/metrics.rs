//! Prometheus metrics (`GET /metrics`). No labels carry personal data or document ids.

use prometheus::{
    Encoder, Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGauge, Opts, Registry,
    TextEncoder,
};

/// The relay's metrics.
#[derive(Debug, Clone)]
pub struct Metrics {
    registry: Registry,
    /// Open WebSocket connections.
    pub connections: IntGauge,
    /// Open TCP connections (HTTP and upgraded WebSockets), under `Limits::max_connections`.
    pub http_connections: IntGauge,
    /// Documents loaded in memory.
    pub documents_loaded: IntGauge,
    /// Sync messages by direction (`in`, `out`).
    pub sync_messages: IntCounterVec,
    /// Sync bytes by direction.
    pub sync_bytes: IntCounterVec,
    /// Time from receiving changes to having stored them and sent the replies.
    pub merge_seconds: Histogram,
    /// Storage errors by operation.
    pub storage_errors: IntCounterVec,
    /// Failed authentications by reason.
    pub auth_failures: IntCounterVec,
    /// Limit violations by limit.
    pub limit_violations: IntCounterVec,
    /// Change sets the rules refused (ADR 0013), by reason.
    pub refused_changes: IntCounterVec,
    /// Notices heard from the other relay nodes on the database (ADR 0025), by kind:
    /// `doc`, `session`, and `lost` (the listening connection came back; everything loaded
    /// was read again).
    pub cluster_notices: IntCounterVec,
    /// Reads of a tenant's rules context from storage (its tenant document and volunteer
    /// directory): once per tenant, and again only after either changes.
    pub rules_context_loads: IntCounter,
}

impl Metrics {
    /// Creates and registers the metrics.
    pub fn new() -> Self {
        let registry = Registry::new();
        let connections = IntGauge::new("nabo_connections", "Open WebSocket connections")
            .unwrap_or_else(|_| unreachable_metric());
        let http_connections = IntGauge::new(
            "nabo_http_connections",
            "Open TCP connections (HTTP and WebSocket)",
        )
        .unwrap_or_else(|_| unreachable_metric());
        let documents_loaded = IntGauge::new("nabo_documents_loaded", "Documents loaded in memory")
            .unwrap_or_else(|_| unreachable_metric());
        let sync_messages = IntCounterVec::new(
            Opts::new("nabo_sync_messages_total", "Sync protocol messages"),
            &["direction"],
        )
        .unwrap_or_else(|_| unreachable_metric());
        let sync_bytes = IntCounterVec::new(
            Opts::new("nabo_sync_bytes_total", "Sync protocol bytes"),
            &["direction"],
        )
        .unwrap_or_else(|_| unreachable_metric());
        let merge_seconds = Histogram::with_opts(
            HistogramOpts::new(
                "nabo_merge_seconds",
                "From receiving changes to stored and relayed",
            )
            .buckets(vec![
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
            ]),
        )
        .unwrap_or_else(|_| unreachable_metric());
        let storage_errors = IntCounterVec::new(
            Opts::new("nabo_storage_errors_total", "Storage errors"),
            &["op"],
        )
        .unwrap_or_else(|_| unreachable_metric());
        let auth_failures = IntCounterVec::new(
            Opts::new("nabo_auth_failures_total", "Failed authentications"),
            &["reason"],
        )
        .unwrap_or_else(|_| unreachable_metric());
        let limit_violations = IntCounterVec::new(
            Opts::new("nabo_limit_violations_total", "Limit violations"),
            &["limit"],
        )
        .unwrap_or_else(|_| unreachable_metric());
        let refused_changes = IntCounterVec::new(
            Opts::new(
                "nabo_refused_changes_total",
                "Change sets refused by the rules before storage",
            ),
            &["reason"],
        )
        .unwrap_or_else(|_| unreachable_metric());
        let cluster_notices = IntCounterVec::new(
            Opts::new(
                "nabo_cluster_notices_total",
                "Notices heard from the other relay nodes on the database",
            ),
            &["kind"],
        )
        .unwrap_or_else(|_| unreachable_metric());
        let rules_context_loads = IntCounter::new(
            "nabo_rules_context_loads_total",
            "Reads of a tenant's rules context (tenant document, volunteer directory)",
        )
        .unwrap_or_else(|_| unreachable_metric());
        for c in [
            Box::new(connections.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(http_connections.clone()),
            Box::new(documents_loaded.clone()),
            Box::new(sync_messages.clone()),
            Box::new(sync_bytes.clone()),
            Box::new(merge_seconds.clone()),
            Box::new(storage_errors.clone()),
            Box::new(auth_failures.clone()),
            Box::new(limit_violations.clone()),
            Box::new(refused_changes.clone()),
            Box::new(cluster_notices.clone()),
            Box::new(rules_context_loads.clone()),
        ] {
            // Names are unique constants: registration cannot fail.
            let _ = registry.register(c);
        }
        // Known label values start at zero, so every series is visible from the start.
        for d in ["in", "out"] {
            sync_messages.with_label_values(&[d]);
            sync_bytes.with_label_values(&[d]);
        }
        for op in ["append", "compact", "load", "request", "sync_state"] {
            storage_errors.with_label_values(&[op]);
        }
        for k in ["doc", "session", "lost"] {
            cluster_notices.with_label_values(&[k]);
        }
        for r in [
            "bad_credentials",
            "invalid_token",
            "revoked",
            "token_reused",
            "rate_limited",
        ] {
            auth_failures.with_label_values(&[r]);
        }
        for l in [
            "message_size",
            "document_size",
            "changes_per_message",
            "connections_per_user",
            "documents_per_connection",
            "sync_rounds",
            "new_documents",
            "malformed",
            "connections",
            "outbound_queue",
            "ephemeral_size",
            "ephemeral_rate",
            "ephemeral_read_only",
            "body_size",
            "body_timeout",
            "held_changes",
        ] {
            limit_violations.with_label_values(&[l]);
        }
        Metrics {
            registry,
            connections,
            http_connections,
            documents_loaded,
            sync_messages,
            sync_bytes,
            merge_seconds,
            storage_errors,
            auth_failures,
            limit_violations,
            refused_changes,
            cluster_notices,
            rules_context_loads,
        }
    }

    /// Prometheus text format.
    pub fn render(&self) -> String {
        let mut buf = Vec::new();
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut buf);
        String::from_utf8(buf).unwrap_or_default()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

#[cold]
fn unreachable_metric<T>() -> T {
    // Metric names and options are constants that are valid.
    panic!("invalid metric definition")
}
