"""Prometheus metrics, at TF Serving's path /monitoring/prometheus/metrics.

Each server gets its own registry (several servers in one test process must
not share counters). Names are ours; TF Serving's own
(`:tensorflow:serving:request_count`...) carry fewer labels.
"""
from __future__ import annotations

import dataclasses

from prometheus_client import (CollectorRegistry, Counter, Gauge, Histogram,
                               generate_latest)
from prometheus_client.exposition import CONTENT_TYPE_LATEST

# From 1 ms (a cached small request) to 10 s (a large batch on a busy CPU).
LATENCY_BUCKETS = (.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5,
                   5, 10)


@dataclasses.dataclass
class ServingMetrics:
    registry: CollectorRegistry
    requests: Counter
    latency: Histogram
    in_flight: Gauge
    versions_available: Gauge
    versions_refused: Gauge

    def render(self) -> bytes:
        return generate_latest(self.registry)

    content_type = CONTENT_TYPE_LATEST

    _children: dict = dataclasses.field(default_factory=dict)

    def observe(self, model: str, version: str, api: str, status: int,
                seconds: float) -> None:
        # `.labels()` validates and looks up the label values on every call;
        # the children are cached per label set (a handful per server).
        key = (model, version, api, status)
        children = self._children.get(key)
        if children is None:
            children = self._children[key] = (
                self.requests.labels(model, version, api, str(status)),
                self.latency.labels(model, api))
        children[0].inc()
        children[1].observe(seconds)


def create_metrics() -> ServingMetrics:
    registry = CollectorRegistry()
    return ServingMetrics(
        registry=registry,
        requests=Counter("imgpipe_serving_requests",
                         "REST requests by model, version, API and HTTP status",
                         ["model", "version", "api", "status"],
                         registry=registry),
        latency=Histogram("imgpipe_serving_request_latency_seconds",
                          "Time from request received to response ready",
                          ["model", "api"], buckets=LATENCY_BUCKETS,
                          registry=registry),
        in_flight=Gauge("imgpipe_serving_requests_in_flight",
                        "REST requests being received or answered",
                        registry=registry),
        versions_available=Gauge("imgpipe_serving_versions_available",
                                 "Loaded versions per model", ["model"],
                                 registry=registry),
        versions_refused=Gauge("imgpipe_serving_versions_refused",
                               "Versions that failed to load per model",
                               ["model"], registry=registry),
    )
