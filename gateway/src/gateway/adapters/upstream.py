"""The gateway's connection to one upstream service: a pooled aiohttp client (opened in
the app's lifespan, closed on shutdown), explicit timeouts, the circuit breaker and the
retry rule. Why aiohttp and not httpx here: docs/decisions.md, "Gateway".

Retry rule: a request is sent again at most once, and only when the connection failed
before any answer came (refused, or closed without a response) and repeating it cannot
do anything twice: GET, HEAD, PUT, DELETE, OPTIONS, or a POST carrying an
`Idempotency-Key` (the service replays the first answer; it honours the key on POST
only, so a PATCH is never sent twice, key or not). Timeouts are never retried:
the upstream may still be working on the first request. A streamed request body cannot
be replayed, so such a request is sent once.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterable, Sequence
from dataclasses import dataclass

import aiohttp
from prometheus_client import Counter
from yarl import URL

from gateway.adapters.metrics import BREAKER_STATE, UPSTREAM_LATENCY, UPSTREAM_REQUESTS
from gateway.domain.breaker import BreakerState, CircuitBreaker, CircuitOpen, Permit

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
# Below uvicorn's 5 s keep-alive: the pool drops an idle connection before the service
# does, instead of sending a request down a connection the service is closing.
KEEPALIVE_SECONDS = 4.0

Body = bytes | AsyncIterable[bytes] | None


class RequestBodyAborted(Exception):
    """The client's request body ended badly (too large, or the client went away): the
    request is given up, and it says nothing about the upstream's health."""


class UpstreamFailure(Exception):
    """The upstream gave no usable answer; `status` is what the gateway answers instead,
    with `Retry-After: retry_after` when the request never reached the service."""

    def __init__(
        self, upstream: str, status: int, outcome: str, detail: str, retry_after: str | None = None
    ) -> None:
        super().__init__(detail)
        self.upstream = upstream
        self.status = status
        self.outcome = outcome
        self.detail = detail
        self.retry_after = retry_after


@dataclass(frozen=True)
class Timeouts:
    connect: float
    read: float


class Upstream:
    """One upstream service (`crm`, `erp`) at `base_url`."""

    def __init__(
        self,
        name: str,
        base_url: str,
        *,
        timeouts: Timeouts,
        pool_size: int,
        breaker: CircuitBreaker,
    ) -> None:
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.timeouts = timeouts
        self.pool_size = pool_size
        self.breaker = breaker
        self._session: aiohttp.ClientSession | None = None
        self._latency = UPSTREAM_LATENCY.labels(name)
        self._outcomes: dict[str, Counter] = {}
        # Answers whose outcome is known once their body is read (release()).
        self._unsettled: dict[aiohttp.ClientResponse, Permit] = {}
        state_gauge = BREAKER_STATE.labels(name)
        state_gauge.set(breaker.state)
        breaker.on_change = lambda state: state_gauge.set(state)

    async def start(self) -> None:
        if self._session is None:
            self._session = self._new_session()

    async def close(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    def _new_session(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(
            limit=self.pool_size, limit_per_host=0, keepalive_timeout=KEEPALIVE_SECONDS
        )
        session = aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(
                total=None, sock_connect=self.timeouts.connect, sock_read=self.timeouts.read
            ),
            # Bodies and headers pass through as the service sent them: no decompression,
            # no cookies kept between users' requests, no headers of the client library.
            auto_decompress=False,
            cookie_jar=aiohttp.DummyCookieJar(),
            skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding", "Content-Type"),
        )
        # One retry rule, this module's: aiohttp would otherwise resend idempotent
        # requests on its own after a dropped connection.
        session._retry_connection = False
        return session

    @property
    def breaker_state(self) -> BreakerState:
        return self.breaker.state

    async def send(
        self,
        method: str,
        target: str,
        headers: Sequence[tuple[str, str]],
        body: Body,
        *,
        replayable: bool,
    ) -> aiohttp.ClientResponse:
        """The upstream's response, its headers read and its body not yet; the caller
        hands it back to release(). Raises CircuitOpen (not called) or UpstreamFailure."""
        if self._session is None:
            await self.start()  # an app driven without its lifespan (in-process tests)
        assert self._session is not None
        url = URL(self.base_url + target, encoded=True)
        attempts = 2 if replayable and not isinstance(body, AsyncIterable) else 1
        for attempt in range(1, attempts + 1):
            try:
                permit = self.breaker.acquire()
            except CircuitOpen:
                self._count("circuit_open")
                raise
            started = time.perf_counter()
            try:
                response = await self._session.request(
                    method, url, headers=headers, data=body, allow_redirects=False
                )
            except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as exc:
                # Not connected: the service never saw the request, which may be sent again.
                failure = UpstreamFailure(
                    self.name,
                    503,
                    "connect_error",
                    f"The {self.name} service is unreachable; try again shortly.",
                    retry_after="1",
                )
                failure.__cause__ = exc
            except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
                self.breaker.failed(permit)
                self._count("timeout")
                raise UpstreamFailure(
                    self.name, 504, "timeout", f"The {self.name} service did not answer in time."
                ) from exc
            except (aiohttp.ClientConnectionError, aiohttp.ClientResponseError) as exc:
                aborted = _body_aborted(exc)
                if aborted is not None:
                    self.breaker.abandoned(permit)
                    raise aborted from None
                failure = UpstreamFailure(
                    self.name,
                    502,
                    "disconnected",
                    f"The {self.name} service closed the connection without an answer.",
                )
                failure.__cause__ = exc
            except BaseException:
                self.breaker.abandoned(permit)
                raise
            else:
                self._latency.observe(time.perf_counter() - started)
                self._unsettled[response] = permit
                return response
            self.breaker.failed(permit)
            self._count(failure.outcome)
            if attempt == attempts:
                raise failure
        raise AssertionError("unreachable")

    def release(self, response: aiohttp.ClientResponse) -> None:
        """The call is over: its outcome counts (a body that broke off or timed out is a
        failure, whatever the status said) and the connection goes back to the pool, or
        is closed when the body was not read to its end."""
        permit = self._unsettled.pop(response, None)
        if permit is not None:
            if response.content.exception() is not None:
                self._count("broken_off")
                self.breaker.failed(permit)
            else:
                self._count(_status_class(response.status))
                if response.status >= 500:
                    self.breaker.failed(permit)
                else:
                    self.breaker.succeeded(permit)
        response.release()

    def _count(self, outcome: str) -> None:
        counter = self._outcomes.get(outcome)
        if counter is None:
            counter = self._outcomes[outcome] = UPSTREAM_REQUESTS.labels(self.name, outcome)
        counter.inc()


def _body_aborted(exc: BaseException) -> RequestBodyAborted | None:
    # aiohttp wraps what the request body raised into a connection error, as its cause.
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, RequestBodyAborted):
            return cause
        cause = cause.__cause__
    return None


def _status_class(status: int) -> str:
    return f"{status // 100}xx"
