"""Read a Prometheus exposition: the value of one sample, or every label value of a metric."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families


def samples(text: str, name: str) -> list[tuple[dict[str, str], float]]:
    return [
        (dict(s.labels), s.value)
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == name
    ]


def value(text: str, name: str, **labels: str) -> float:
    """The sum of the samples of ``name`` whose labels include ``labels`` (0 when there is none)."""
    return sum(v for have, v in samples(text, name) if labels.items() <= have.items())


def label_values(text: str, name: str, label: str) -> set[str]:
    return {have[label] for have, _ in samples(text, name) if label in have}
