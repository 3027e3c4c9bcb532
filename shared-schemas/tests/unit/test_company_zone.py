"""The company's time zone resolves wherever a service runs, including slim images whose
system zone database lacks the legacy names (`US/Central`) operators still configure."""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from shared_schemas.service import CompanySettings


@pytest.fixture
def no_system_zone_database() -> Iterator[None]:
    zoneinfo.reset_tzpath(to=[])
    zoneinfo.ZoneInfo.clear_cache()
    try:
        yield
    finally:
        zoneinfo.reset_tzpath()
        zoneinfo.ZoneInfo.clear_cache()


@pytest.mark.usefixtures("no_system_zone_database")
@pytest.mark.parametrize(
    ("name", "summer", "winter"),
    [("US/Central", -5, -6), ("Europe/Berlin", 2, 1), ("Etc/UTC", 0, 0)],
)
def test_zone_names_resolve_without_a_system_zone_database(
    name: str, summer: int, winter: int
) -> None:
    settings = CompanySettings(timezone=name)

    # The zone's own rules, daylight saving included, not a fixed offset or UTC.
    midsummer = datetime(2026, 7, 1, 12, tzinfo=UTC).astimezone(settings.zone)
    midwinter = datetime(2026, 1, 1, 12, tzinfo=UTC).astimezone(settings.zone)
    assert midsummer.utcoffset() == timedelta(hours=summer)
    assert midwinter.utcoffset() == timedelta(hours=winter)
    assert settings.timezone == name


def test_an_unknown_zone_is_refused_at_start() -> None:
    with pytest.raises(ValidationError, match="unknown time zone 'Mars/Olympus_Mons'"):
        CompanySettings(timezone="Mars/Olympus_Mons")
