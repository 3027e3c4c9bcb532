"""An illegal transition's message reads as English for every entity, and names what is
allowed from where the record stands."""

from __future__ import annotations

import pytest

from shared_schemas.domain import IllegalTransition, StateMachine


@pytest.mark.parametrize(
    ("entity", "article"),
    [("order", "An"), ("invoice", "An"), ("employee", "An"), ("quote", "A"), ("lead", "A")],
)
def test_an_illegal_transition_names_the_entity_with_its_article(entity: str, article: str) -> None:
    machine = StateMachine(entity, {"open": {"close": "closed"}, "closed": {}})
    with pytest.raises(IllegalTransition) as refused:
        machine.next("closed", "close")
    assert refused.value.detail == (
        f"{article} {entity} in status 'closed' cannot close; allowed: none."
    )
    with pytest.raises(IllegalTransition) as refused:
        machine.next("open", "reopen")
    assert refused.value.extra == {"current_status": "open", "allowed": ["close"]}
