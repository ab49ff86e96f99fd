"""A fake clock for the deploy providers' waits (CodeDeploy deployments, instance refreshes)."""

from __future__ import annotations


class Clock:
    """A fake clock that sleeping advances, so waits run instantly and timeouts are reached."""

    def __init__(self):
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
