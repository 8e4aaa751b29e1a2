"""lending's worker processes, one module each: ``python -m lending.workers.<name>``."""
