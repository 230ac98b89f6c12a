package ingest

import "github.com/prometheus/client_golang/prometheus"

// Metrics are ingestion's Prometheus metrics.
type Metrics struct {
	Accepted      *prometheus.CounterVec
	Rejected      *prometheus.CounterVec
	Duplicates    prometheus.Counter
	Warnings      *prometheus.CounterVec
	Overloaded    prometheus.Counter
	QueueDepth    prometheus.Gauge
	CommitSeconds prometheus.Histogram
	CommitErrors  prometheus.Counter
	BatchMessages prometheus.Histogram
}

// NewMetrics creates ingestion metrics and registers them with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Accepted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sightline_messages_accepted_total", Help: "Messages committed, by kind."}, []string{"kind"}),
		Rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sightline_messages_rejected_total", Help: "Messages refused, by reason code."}, []string{"reason"}),
		Duplicates: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sightline_messages_duplicate_total", Help: "Retried messages recognised by messageId and not stored again."}),
		Warnings: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sightline_attribute_warnings_total", Help: "Attribute values refused inside accepted messages, by reason code."}, []string{"reason"}),
		Overloaded: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sightline_ingest_overloaded_total", Help: "Requests answered 429 because the queue was full."}),
		QueueDepth: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "sightline_ingest_queue_messages", Help: "Messages waiting to be committed."}),
		CommitSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "sightline_commit_seconds", Help: "Time to commit one group of messages.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14)}),
		CommitErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sightline_commit_errors_total", Help: "Groups of messages whose commit failed."}),
		BatchMessages: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "sightline_commit_messages", Help: "Messages per committed group.",
			Buckets: prometheus.ExponentialBuckets(1, 4, 9)}),
	}
	reg.MustRegister(m.Accepted, m.Rejected, m.Duplicates, m.Warnings, m.Overloaded, m.QueueDepth,
		m.CommitSeconds, m.CommitErrors, m.BatchMessages)
	return m
}
