"""Capped exponential backoff with full jitter, for every retry loop of the runtime."""

from __future__ import annotations

import random


class Backoff:
    def __init__(self, base: float = 0.1, cap: float = 5.0) -> None:
        self.base = base
        self.cap = cap
        self.attempt = 0

    def next_delay(self) -> float:
        ceiling = min(self.cap, self.base * 2**self.attempt)
        self.attempt += 1
        # Full jitter keeps replicas that failed together from retrying together.
        return random.uniform(ceiling / 2, ceiling)

    def reset(self) -> None:
        self.attempt = 0
