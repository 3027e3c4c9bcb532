"""Errors a domain raises, free of HTTP and SQL; the HTTP layer maps each to a status once
(`shared_schemas.http.problems`), so use cases never think in status codes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


class DomainError(Exception):
    """A business rule said no. `detail` is for the client; `extra` goes into the body."""

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class NotFound(DomainError):
    """No such record, or one the caller may not see (the same answer for both)."""

    def __init__(self, entity: str, key: object) -> None:
        super().__init__(f"There is no {entity} {key}.")


class Conflict(DomainError):
    """The request contradicts the current state (409)."""


class Duplicate(Conflict):
    """A record like this exists already; `existing_id` names it."""

    def __init__(self, detail: str, existing_id: object, **extra: Any) -> None:
        super().__init__(detail, existing_id=str(existing_id), **extra)


class IllegalTransition(Conflict):
    """A status change the state machine does not allow from the current status."""

    def __init__(self, entity: str, current: str, action: str, allowed: Sequence[str]) -> None:
        allowed_text = ", ".join(allowed) if allowed else "none"
        article = "An" if entity[:1] in "aeiou" else "A"  # an order, an invoice, a quote
        super().__init__(
            f"{article} {entity} in status {current!r} cannot {action}; allowed: {allowed_text}.",
            current_status=current,
            allowed=list(allowed),
        )


class RuleViolation(DomainError):
    """Input that is well-formed but breaks a business rule (422), per field."""

    def __init__(self, detail: str, errors: Sequence[Mapping[str, str]] = ()) -> None:
        super().__init__(detail)
        self.errors = [dict(error) for error in errors]


class StaleVersion(DomainError):
    """The client changed an older version than the current one (412)."""

    def __init__(self, current: int) -> None:
        super().__init__(
            "The record changed since you read it; fetch it again.", current_version=current
        )


class Forbidden(DomainError):
    """The caller may see the record but not do this to it (403)."""


@dataclass(frozen=True)
class StateMachine:
    """Statuses and the named actions that move between them.

    `moves[status][action] = next_status`; a status without moves is final. `phrases`
    words an action that is no verb for the refusal's message (an opportunity's target
    stage: "cannot move to negotiation").
    """

    entity: str
    moves: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    phrases: Mapping[str, str] = field(default_factory=dict)

    def allowed(self, current: str) -> list[str]:
        return list(self.moves.get(current, {}))

    def next(self, current: str, action: str) -> str:
        """The status `action` leads to from `current`, or IllegalTransition."""
        target = self.moves.get(current, {}).get(action)
        if target is None:
            raise IllegalTransition(
                self.entity, current, self.phrases.get(action, action), self.allowed(current)
            )
        return target

    @property
    def statuses(self) -> list[str]:
        seen = dict.fromkeys(self.moves)
        for targets in self.moves.values():
            seen.update(dict.fromkeys(targets.values()))
        return list(seen)
