"""Prometheus /metrics answers read into ``{(name, frozenset(labels)): value}``."""
from prometheus_client.parser import text_string_to_metric_families

Samples = dict[tuple[str, frozenset], float]


def parse(text: str, prefix: str = "") -> Samples:
    """Every sample of a /metrics text whose name starts with ``prefix``."""
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples if sample.name.startswith(prefix)}


def scrape(client, prefix: str = "") -> Samples:
    """GET /metrics with a Flask test client; the samples whose name starts with ``prefix``."""
    response = client.get("/metrics")
    assert response.status_code == 200
    return parse(response.get_data(as_text=True), prefix)


def key(name: str, **labels) -> tuple[str, frozenset]:
    """The samples' key of ``name`` with exactly ``labels``."""
    return name, frozenset(labels.items())


def value(samples: Samples, name: str, **labels) -> float:
    return samples[key(name, **labels)]
