"""What an OAuth2 client library reads in a refused `POST /auth/token`: a 401 names its
authentication scheme (`WWW-Authenticate`, RFC 9110 §11.6.1), and every refusal carries
the RFC 6749 §5.2 `error` code beside the problem document's members."""

from __future__ import annotations

import pytest

from tests.support.gateway import Gateway
from tests.support.gateway_identity import refresh, sign_in

pytestmark = [pytest.mark.api, pytest.mark.security]


async def test_a_refused_sign_in_or_refresh_names_its_scheme(gateway: Gateway) -> None:
    for response in (
        await sign_in(gateway.client, "nobody", "not the password"),
        await refresh(gateway.client, "not-a-refresh-token"),
    ):
        assert response.status_code == 401, response.text
        assert response.json()["error"] == "invalid_grant"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"grant_type": "client_credentials"}, "unsupported_grant_type"),
        ({"grant_type": "authorization_code", "code": "x"}, "unsupported_grant_type"),
        ({"username": "x", "password": "y"}, "invalid_request"),
        ({"grant_type": "password", "username": "x"}, "invalid_request"),
        ({"grant_type": "refresh_token"}, "invalid_request"),
    ],
)
async def test_an_invalid_token_request_carries_the_oauth2_error_code(
    gateway: Gateway, form: dict[str, str], error: str
) -> None:
    response = await gateway.client.post("/auth/token", data=form)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["error"] == error
    assert problem["errors"], problem


async def test_a_parameter_given_twice_is_an_invalid_request(gateway: Gateway) -> None:
    response = await gateway.client.post(
        "/auth/token",
        content=b"grant_type=password&username=a&username=b&password=c",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "invalid_request"
    assert response.json()["errors"] == [{"field": "username", "message": "may be given only once"}]


async def test_the_document_says_a_refused_sign_in_names_its_scheme(gateway: Gateway) -> None:
    document = (await gateway.client.get("/openapi.json")).json()
    for path in ("/auth/token", "/auth/exchange"):
        refused = document["paths"][path]["post"]["responses"]["401"]
        assert "WWW-Authenticate" in refused["headers"], path
