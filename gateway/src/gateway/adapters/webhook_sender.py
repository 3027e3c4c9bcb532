"""Sending webhooks over HTTP (aiohttp), only ever to public addresses.

A target's host is checked when a subscription is saved and again on every connection:
the connector's resolver refuses a name that now resolves to a private address, and it
connects to exactly the addresses it checked, so DNS rebinding between the check and the
connection gets nowhere (that resolver hook is why this is aiohttp, not httpx:
docs/decisions.md). Redirects are not followed.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import timedelta
from types import TracebackType
from typing import Self

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult

from gateway.domain.webhooks import (
    LONGEST_RETRY,
    check_addresses,
    excerpt,
    literal_address,
    target_host,
)
from shared_schemas.domain import RuleViolation
from shared_schemas.http.wire_numbers import whole_number

Lookup = Callable[[str, int], Awaitable[list[str]]]

LOOKUP_TIMEOUT_SECONDS = 5.0
USER_AGENT = "crm-erp-gateway-webhooks/1"
LONGEST_RETRY_SECONDS = int(LONGEST_RETRY.total_seconds())


async def resolve_host(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (empty when it does not resolve)."""
    loop = asyncio.get_running_loop()
    try:
        infos = await asyncio.wait_for(
            loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), LOOKUP_TIMEOUT_SECONDS
        )
    except (OSError, UnicodeError, TimeoutError):
        return []
    return sorted({str(info[4][0]) for info in infos})


class TargetPolicy:
    """Which targets webhooks may go to: public addresses only, except the hosts the
    settings allow to be private."""

    def __init__(self, allowed_private_hosts: Collection[str], lookup: Lookup | None = None):
        self.allowed_private_hosts = list(allowed_private_hosts)
        self._lookup = lookup

    async def addresses(self, host: str, port: int) -> list[str]:
        """The addresses of `host`, checked; RuleViolation if any of them is refused."""
        literal = literal_address(host)
        if literal is not None:
            addresses = [str(literal)]
        else:
            # The module's function, looked up now (tests stand in a resolver of their own).
            addresses = await (self._lookup or resolve_host)(host, port)
        check_addresses(host, addresses, self.allowed_private_hosts)
        return addresses

    async def check(self, url: str) -> None:
        """RuleViolation unless webhooks may go to `url`."""
        await self.addresses(*target_host(url))


class TargetRefused(OSError):
    """The target's host resolves to an address webhooks may not go to."""


class _CheckedResolver(AbstractResolver):
    def __init__(self, policy: TargetPolicy) -> None:
        self.policy = policy

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        try:
            addresses = await self.policy.addresses(host, port)
        except RuleViolation as exc:
            raise TargetRefused(exc.detail) from None
        results: list[ResolveResult] = []
        for text in addresses:
            address = literal_address(text.split("%", 1)[0])
            kind = (
                socket.AF_INET6 if address is not None and address.version == 6 else socket.AF_INET
            )
            if family not in (socket.AF_UNSPEC, kind):
                continue
            results.append(
                {
                    "hostname": host,
                    "host": text,
                    "port": port,
                    "family": kind,
                    "proto": 0,
                    "flags": 0,
                }
            )
        if not results:
            raise OSError(f"{host} has no address of the requested family")
        return results

    async def close(self) -> None:
        return None


@dataclass(frozen=True)
class Answer:
    """What one attempt got: the status and the start of the body, or the error."""

    status_code: int | None
    response: str | None = None
    error: str | None = None
    retry_after: timedelta | None = None
    target_refused: bool = False


class WebhookSender:
    """`async with WebhookSender(policy, timeout) as sender: await sender.post(...)`."""

    def __init__(self, policy: TargetPolicy, timeout_seconds: float, connections: int = 20):
        self.policy = policy
        self.timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self.connections = connections
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Self:
        connector = aiohttp.TCPConnector(
            resolver=_CheckedResolver(self.policy), limit=self.connections, family=socket.AF_UNSPEC
        )
        self._session = aiohttp.ClientSession(
            connector=connector, timeout=self.timeout, headers={"User-Agent": USER_AGENT}
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> Answer:
        assert self._session is not None, "use the sender inside `async with`"
        try:
            host, _ = target_host(url)
            if literal_address(host) is not None:
                # The connector resolves no literal address: check it here.
                await self.policy.check(url)
        except RuleViolation as exc:
            return Answer(None, error=exc.detail, target_refused=True)
        try:
            async with self._session.post(
                url, data=body, headers=dict(headers), allow_redirects=False
            ) as response:
                text = await _start_of(response)
                return Answer(
                    response.status,
                    response=text,
                    retry_after=_retry_after(response.headers.get("Retry-After")),
                )
        except aiohttp.ClientConnectorDNSError as exc:
            if isinstance(exc.os_error, TargetRefused):
                return Answer(None, error=str(exc.os_error), target_refused=True)
            return Answer(None, error=f"cannot resolve the target: {exc.os_error}")
        except TimeoutError:
            return Answer(None, error=f"no answer within {self.timeout.total:g}s")
        except aiohttp.ClientError as exc:
            return Answer(None, error=f"{type(exc).__name__}: {exc}"[:1000])


async def _start_of(response: aiohttp.ClientResponse) -> str:
    try:
        head = await response.content.read(4 * 1024)
    except (aiohttp.ClientError, TimeoutError):
        return ""
    return excerpt(head.decode("utf-8", errors="replace"))


def _retry_after(value: str | None) -> timedelta | None:
    """`Retry-After` in seconds (no longer than the longest retry); None for anything
    else, a date included."""
    seconds = None if value is None else whole_number(value, LONGEST_RETRY_SECONDS)
    return None if seconds is None else timedelta(seconds=seconds)
