"""partner-sandbox's HTTP endpoints: the simulation's controls, the credit data, the callbacks, the page."""
