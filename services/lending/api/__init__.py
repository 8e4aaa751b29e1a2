"""lending's HTTP endpoints: the partner API, the platform's internal reads, the agreement pages."""
