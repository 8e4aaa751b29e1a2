"""bank-callback's HTTP API: the background and page callbacks the bank calls (reading and verifying their
fields: :mod:`bank_callback.api.receiving`), the gauges on /metrics, and the OpenAPI schemas."""
