"""The parts of the ``lambda`` pattern: spec and validation, packaging, schedules, the shared HTTP API, triggers."""
