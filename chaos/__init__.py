"""The fault campaign: the whole platform as real processes under injected faults, then a proof that
no amount was lost or applied twice. ``python -m chaos --help``; see docs/reliability.md."""
