"""Which database errors are an outage (503 for routes, retried by consumers) and which
are the request's or the server's own fault."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from shared_schemas.database import is_database_outage

pytestmark = pytest.mark.unit


class DriverError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(f"SQLSTATE {sqlstate}")
        self.sqlstate = sqlstate


def failed(sqlstate: str) -> DBAPIError:
    return DBAPIError("SELECT 1", None, DriverError(sqlstate))


@pytest.mark.parametrize(
    "sqlstate",
    [
        "08006",  # connection failure
        "08001",  # could not establish a connection
        "53300",  # too many connections
        "57P01",  # administrator shut the server down
        "57P02",  # crash shutdown
        "57P03",  # the server is starting up
    ],
)
def test_a_server_that_cannot_serve_now_is_an_outage(sqlstate: str) -> None:
    assert is_database_outage(failed(sqlstate))


@pytest.mark.parametrize(
    "sqlstate",
    [
        "23505",  # unique violation: a concurrent writer, 409
        "22P02",  # invalid text representation: the request's value, 422
        "42P01",  # undefined table: the server's own fault, 500
        "40001",  # serialization failure: a conflict between transactions
    ],
)
def test_other_errors_are_not_an_outage(sqlstate: str) -> None:
    assert not is_database_outage(failed(sqlstate))


def test_no_connection_free_in_the_pool_is_an_outage() -> None:
    assert is_database_outage(PoolTimeout("QueuePool limit of size 10 overflow 10 reached"))
