"""Sealing webhook secrets without I/O: what is stored gives nothing away, a rotation keeps
old secrets readable until they are resealed, a dropped key is noticed."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from gateway.service.webhook_secrets import SecretBox, UnreadableSecret

pytestmark = pytest.mark.unit

SECRET = "whsec_the-receivers-shared-secret"


def new_key() -> str:
    return Fernet.generate_key().decode()


def test_a_sealed_secret_shows_nothing_of_the_secret_and_opens_to_it() -> None:
    box = SecretBox([new_key()])
    sealed = box.seal(SECRET)
    assert SECRET not in sealed
    assert "receivers-shared-secret" not in sealed
    assert box.open(sealed) == SECRET
    assert box.seal(SECRET) != sealed, "each sealing is fresh (random IV)"


def test_a_rotation_opens_old_secrets_and_reseals_them_under_the_new_key() -> None:
    old, new = new_key(), new_key()
    sealed = SecretBox([old]).seal(SECRET)
    rotated = SecretBox([new, old])
    assert rotated.open(sealed) == SECRET
    assert not rotated.is_current(sealed)
    assert rotated.is_current(rotated.seal(SECRET)), "the first key seals"

    resealed = rotated.reseal(sealed)
    assert rotated.is_current(resealed)
    assert SecretBox([new]).open(resealed) == SECRET, "the old key may go now"


def test_a_secret_sealed_under_a_key_no_longer_configured_cannot_be_opened() -> None:
    sealed = SecretBox([new_key()]).seal(SECRET)
    stranger = SecretBox([new_key()])
    with pytest.raises(UnreadableSecret):
        stranger.open(sealed)
    with pytest.raises(UnreadableSecret):
        stranger.reseal(sealed)
    assert not stranger.is_current(sealed)


def test_a_box_needs_a_key() -> None:
    with pytest.raises(ValueError, match="at least one"):
        SecretBox([])
