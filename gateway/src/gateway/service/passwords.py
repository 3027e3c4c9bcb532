"""Password hashes: argon2id, computed off the event loop, and a dummy hash so that an
unknown username costs what a wrong password costs."""

from __future__ import annotations

import asyncio
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# OWASP's argon2id parameters (19 MiB, 2 passes, 1 lane): ~70 ms per check on a 2-core
# machine, where argon2-cffi's defaults (64 MiB, 3 passes, 4 lanes) take ~350 ms, too slow
# for a sign-in answer and an easy way to tie up the CPU with failed sign-ins. Hashes made
# with other parameters are rehashed at the next successful sign-in.
MEMORY_KIB = 19_456
PASSES = 2
LANES = 1


class Passwords:
    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self._hasher = hasher or PasswordHasher(
            time_cost=PASSES, memory_cost=MEMORY_KIB, parallelism=LANES
        )
        self._dummy: str | None = None

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, password_hash: str | None, password: str) -> bool:
        """Whether `password` matches; without a hash (no such user) a dummy one is checked
        so the answer takes as long and is always False."""
        if password_hash is None:
            await self._check(await self._dummy_hash(), password)
            return False
        return await self._check(password_hash, password)

    def needs_rehash(self, password_hash: str) -> bool:
        """True when the hash was made with weaker parameters than today's."""
        try:
            return self._hasher.check_needs_rehash(password_hash)
        except InvalidHashError:
            return True

    async def _check(self, password_hash: str, password: str) -> bool:
        try:
            return await asyncio.to_thread(self._hasher.verify, password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    async def _dummy_hash(self) -> str:
        if self._dummy is None:
            self._dummy = await self.hash(secrets.token_urlsafe(32))
        return self._dummy
