"""Signing in (`POST /auth/token`, OAuth2 password and refresh grants), exchanging an
external issuer's token (`POST /auth/exchange`, RFC 8693) and the public keys
(`GET /.well-known/jwks.json`): the routes open to callers without a token."""

from __future__ import annotations

import logging
from typing import Annotated, Any, Final, Literal, TypeVar
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gateway.domain.identity import PASSWORD_MAX_LENGTH
from gateway.identity import IdentityDep, client_address
from gateway.service.sign_in import BadCredentials, InvalidGrant, Throttled, TokenPair
from shared_schemas.http.problems import Problem
from shared_schemas.identity import KeysUnavailable

log = logging.getLogger(__name__)

public_router = APIRouter(tags=["identity"])

FORM = "application/x-www-form-urlencoded"
MAX_FORM_BYTES = 16_384
# RFC 8693 names (not secrets).
TOKEN_EXCHANGE: Final = "urn:ietf:params:oauth:grant-type:token-exchange"  # noqa: S105
SUBJECT_TOKEN_TYPES = (
    "urn:ietf:params:oauth:token-type:jwt",
    "urn:ietf:params:oauth:token-type:id_token",
    "urn:ietf:params:oauth:token-type:access_token",
)
ACCESS_TOKEN_TYPE: Final = "urn:ietf:params:oauth:token-type:access_token"  # noqa: S105
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
# A 401 names the scheme to authenticate with (RFC 9110 §11.6.1): some HTTP clients cannot
# read a 401 without it.
CHALLENGE = {"WWW-Authenticate": "Bearer"}

ModelT = TypeVar("ModelT", bound=BaseModel)


class PasswordGrant(BaseModel):
    model_config = ConfigDict(extra="ignore")

    grant_type: Literal["password"]
    username: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=1, max_length=PASSWORD_MAX_LENGTH)


class RefreshGrant(BaseModel):
    model_config = ConfigDict(extra="ignore")

    grant_type: Literal["refresh_token"]
    refresh_token: str = Field(min_length=1, max_length=8_192)


class ExchangeRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    grant_type: Literal["urn:ietf:params:oauth:grant-type:token-exchange"] = TOKEN_EXCHANGE
    subject_token: str = Field(min_length=1, max_length=16_000)
    subject_token_type: Literal[
        "urn:ietf:params:oauth:token-type:jwt",
        "urn:ietf:params:oauth:token-type:id_token",
        "urn:ietf:params:oauth:token-type:access_token",
    ] = "urn:ietf:params:oauth:token-type:jwt"  # noqa: S105


class TokenOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "access_token": "eyJhbGciOiJFZERTQSIsImtpZCI6Ii4uLiJ9.…",
                    "token_type": "bearer",
                    "expires_in": 900,
                    "refresh_token": "eyJhbGciOiJFZERTQSIsImtpZCI6Ii4uLiJ9.…",
                    "refresh_expires_in": 604800,
                }
            ]
        }
    )

    access_token: str = Field(description="Send as `Authorization: Bearer <token>`.")
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth2 token type
    expires_in: int = Field(description="Seconds the access token is valid for.")
    refresh_token: str = Field(
        description="`grant_type=refresh_token` exchanges it, once, for a new pair."
    )
    refresh_expires_in: int = Field(description="Seconds the refresh token is valid for.")

    @classmethod
    def of(cls, pair: TokenPair) -> TokenOut:
        return cls(
            access_token=pair.access_token,
            expires_in=pair.expires_in,
            refresh_token=pair.refresh_token,
            refresh_expires_in=pair.refresh_expires_in,
        )


class ExchangeOut(TokenOut):
    issued_token_type: Literal["urn:ietf:params:oauth:token-type:access_token"] = ACCESS_TOKEN_TYPE


class JwksOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "keys": [
                        {
                            "kty": "OKP",
                            "crv": "Ed25519",
                            "x": "jLyAPZ8t1b1Tb9hkPzy8o_jRGKFCDiaqON8C9vB3SaA",
                            "kid": "gateway-2026-11",
                            "alg": "EdDSA",
                            "use": "sig",
                        }
                    ]
                }
            ]
        }
    )

    keys: list[dict[str, Any]] = Field(
        description="Public JWKs (RFC 7517): the current signing key, then retired ones."
    )


def _form_body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"requestBody": {"required": True, "content": {FORM: {"schema": schema}}}}


async def _form(request: Request) -> dict[str, str]:
    """The parameters of a urlencoded form body (each at most once, RFC 6749 §3.2)."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != FORM:
        raise Problem(415, f"Send the parameters as {FORM}.", kind="unsupported-media-type")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise Problem(413, "The form is too large.", kind="payload-too-large")
    try:
        pairs = parse_qsl(body.decode(), keep_blank_values=True, max_num_fields=20)
    except (UnicodeDecodeError, ValueError) as exc:
        raise Problem(
            400, "The form cannot be read.", kind="bad-request", extra={"error": "invalid_request"}
        ) from exc
    form: dict[str, str] = {}
    for name, value in pairs:
        if name in form:
            raise _invalid([{"field": name, "message": "may be given only once"}])
        form[name] = value
    return form


def _invalid(errors: list[dict[str, str]], code: str = "invalid_request") -> Problem:
    """A validation problem as every route answers it, with the OAuth2 error code
    (RFC 6749 §5.2) that token clients read."""
    return Problem(
        422,
        "The request is not valid.",
        kind="validation-error",
        title="Validation error",
        errors=errors,
        extra={"error": code},
    )


def _parsed(model: type[ModelT], form: dict[str, str]) -> ModelT:
    try:
        return model.model_validate(form)
    except ValidationError as exc:
        errors = [
            {"field": ".".join(str(part) for part in e["loc"]) or "body", "message": e["msg"]}
            for e in exc.errors()
        ]
        grant = any(error["field"] == "grant_type" for error in errors)
        raise _invalid(errors, "unsupported_grant_type" if grant else "invalid_request") from None


def _refused(detail: str) -> Problem:
    # One answer whatever the reason (unknown user, wrong password, disabled, revoked):
    # the caller learns nothing it could probe with.
    return Problem(
        401, detail, kind="invalid-grant", headers=CHALLENGE, extra={"error": "invalid_grant"}
    )


def _throttled(exc: Throttled) -> Problem:
    return Problem(
        429,
        "Too many failed sign-ins; try again later.",
        kind="too-many-requests",
        headers={"Retry-After": str(exc.retry_after)},
    )


def _unavailable(detail: str) -> Problem:
    return Problem(503, detail, kind="dependency-unavailable", headers={"Retry-After": "5"})


CHALLENGE_HEADER = {"WWW-Authenticate": {"$ref": "#/components/headers/WWWAuthenticate"}}

TOKEN_FORM = {
    "type": "object",
    "required": ["grant_type"],
    "properties": {
        "grant_type": {"type": "string", "enum": ["password", "refresh_token"]},
        "username": {"type": "string", "description": "With `grant_type=password`."},
        "password": {"type": "string", "format": "password"},
        "refresh_token": {"type": "string", "description": "With `grant_type=refresh_token`."},
    },
}


@public_router.post(
    "/auth/token",
    summary="Sign in: a token pair for a password or a refresh token",
    openapi_extra=_form_body(TOKEN_FORM),
    responses={
        401: {
            "description": "Wrong username or password, or an unusable refresh token "
            "(`error`: `invalid_grant`)",
            "headers": CHALLENGE_HEADER,
        },
        400: {
            "description": "The form cannot be read: not UTF-8, or more parameters than a "
            "grant has (`error`: `invalid_request`)"
        },
        415: {"description": "Not a urlencoded form"},
        422: {
            "description": "A parameter is missing or invalid (`error`: `invalid_request`), "
            "or the grant type is not supported (`unsupported_grant_type`)"
        },
        429: {"description": "Too many failed sign-ins for the user or address"},
        503: {
            "description": "The gateway's database, or the keys a refresh token is checked "
            "with, are not answering"
        },
    },
)
async def token(
    request: Request,
    identity: IdentityDep,
    form: Annotated[dict[str, str], Depends(_form)],
    response: Response,
) -> TokenOut:
    response.headers.update(NO_STORE)
    grant = form.get("grant_type")
    if grant == "password":
        credentials = _parsed(PasswordGrant, form)
        try:
            pair = await identity.sign_in.with_password(
                credentials.username, credentials.password, client_address(request)
            )
        except Throttled as exc:
            raise _throttled(exc) from None
        except BadCredentials:
            raise _refused("The username or password is not correct.") from None
        return TokenOut.of(pair)
    if grant == "refresh_token":
        refresh = _parsed(RefreshGrant, form)
        try:
            pair = await identity.sign_in.with_refresh_token(refresh.refresh_token)
        except InvalidGrant as exc:
            log.info("refresh refused: %s", exc)
            raise _refused("The refresh token is not valid.") from None
        except KeysUnavailable as exc:
            raise _unavailable("Tokens cannot be verified right now.") from exc
        return TokenOut.of(pair)
    raise _invalid(
        [{"field": "grant_type", "message": "must be password or refresh_token"}],
        "unsupported_grant_type" if grant else "invalid_request",
    )


EXCHANGE_FORM = {
    "type": "object",
    "required": ["subject_token"],
    "properties": {
        "grant_type": {"type": "string", "enum": [TOKEN_EXCHANGE]},
        "subject_token": {"type": "string", "description": "The external issuer's token."},
        "subject_token_type": {"type": "string", "enum": list(SUBJECT_TOKEN_TYPES)},
    },
}


@public_router.post(
    "/auth/exchange",
    summary="Exchange an external OIDC issuer's token for a gateway token pair",
    openapi_extra=_form_body(EXCHANGE_FORM),
    responses={
        401: {
            "description": "The token is not accepted, or no enabled user is linked to it "
            "(`error`: `invalid_grant`)",
            "headers": CHALLENGE_HEADER,
        },
        404: {"description": "No external issuer is configured"},
        400: {
            "description": "The form cannot be read: not UTF-8, or more parameters than a "
            "grant has (`error`: `invalid_request`)"
        },
        415: {"description": "Not a urlencoded form"},
        422: {
            "description": "A parameter is missing or invalid (`error`: `invalid_request`), "
            "or the grant type is not supported (`unsupported_grant_type`)"
        },
        429: {"description": "Too many failed sign-ins or exchanges from the address"},
        503: {
            "description": "The external issuer's keys cannot be fetched, or the gateway's "
            "database is not answering"
        },
    },
)
async def exchange(
    request: Request,
    identity: IdentityDep,
    form: Annotated[dict[str, str], Depends(_form)],
    response: Response,
) -> ExchangeOut:
    if identity.sign_in.external is None:
        raise Problem(404, "No external identity provider is configured.", kind="not-found")
    response.headers.update(NO_STORE)
    asked = _parsed(ExchangeRequest, form)
    try:
        pair = await identity.sign_in.with_external_token(
            asked.subject_token, client_address(request)
        )
    except Throttled as exc:
        raise _throttled(exc) from None
    except InvalidGrant as exc:
        log.info("token exchange refused: %s", exc)
        raise _refused("The external token is not accepted.") from None
    except KeysUnavailable as exc:
        raise _unavailable("The external issuer's keys cannot be fetched right now.") from exc
    return ExchangeOut(**TokenOut.of(pair).model_dump())


@public_router.get(
    "/.well-known/jwks.json",
    summary="The public keys the gateway's tokens verify with",
    description="The current signing key first, then retired keys whose tokens may "
    "still be valid. Services fetch it to verify tokens (`<PREFIX>_JWKS_URL`).",
)
async def jwks(identity: IdentityDep, response: Response) -> JwksOut:
    response.headers["Cache-Control"] = "public, max-age=300"
    return JwksOut.model_validate(identity.jwks)
