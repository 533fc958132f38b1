"""Microsoft Entra ID single sign-on for the Office add-in.

The task pane gets an access token for the Sagspost API with nested app authentication (MSAL.js).
Here it is verified (signature with the tenant's published keys, issuer, audience, expiry, allowed
tenants, the delegated scope) and mapped to a Sagspost user: by the linked identity (tenant + object
id), or the first time by e-mail address when the administrator allows that. The same token is the
user assertion for msal's on-behalf-of flow when the server must read a message through Graph.
"""
from __future__ import annotations

import urllib.parse
from dataclasses import dataclass

import jwt
import msal
import requests
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.auth import oidc
from server.auth import services as auth
from server.auth.models import ExternalIdentity, User
from server.config import Settings
from server.errors import Forbidden, Unauthorized, Unavailable

PROVIDER = "entra"
GRAPH_MAIL_SCOPE = "https://graph.microsoft.com/Mail.Read"


@dataclass(frozen=True)
class EntraConfig:
    client_id: str
    client_secret: str
    audiences: list[str]
    app_id_uri: str
    tenants: list[str]
    authority: str
    scope: str
    link_by_email: bool
    graph_url: str

    @classmethod
    def from_settings(cls, settings: Settings) -> "EntraConfig":
        audiences = [a for a in (settings.entra_client_id, f"api://{settings.entra_client_id}", settings.entra_app_id_uri) if a]
        return cls(
            client_id=settings.entra_client_id,
            client_secret=settings.entra_client_secret,
            audiences=audiences,
            app_id_uri=settings.entra_app_id_uri,
            tenants=[t.strip() for t in settings.entra_tenants.split(",") if t.strip()],
            authority=settings.entra_authority.rstrip("/"),
            scope=settings.entra_scope,
            link_by_email=settings.entra_link_by_email,
            graph_url=settings.graph_url.rstrip("/"),
        )

    @property
    def enabled(self) -> bool:
        return bool(self.client_id and self.tenants)

    def jwks_url(self, tenant: str) -> str:
        return f"{self.authority}/{tenant}/discovery/v2.0/keys"

    def issuers(self, tenant: str) -> list[str]:
        # v2.0 tokens name the authority; v1.0 tokens (accessTokenAcceptedVersion unset) sts.windows.net
        return [f"{self.authority}/{tenant}/v2.0", f"https://sts.windows.net/{tenant}/"]


def verify_token(config: EntraConfig, token: str, *, http=None) -> dict:
    """The claims of a valid Sagspost API token from an allowed tenant; Unauthorized otherwise."""
    if not config.enabled:
        raise Unauthorized("Microsoft sign-in is not set up on this server; sign in with a Sagspost account.")
    tenant = _claimed_tenant(token)
    if tenant not in config.tenants:
        raise Unauthorized("Your organisation (Entra tenant) may not use this Sagspost.")
    claims = oidc.verify_jwt(token, jwks_url=config.jwks_url(tenant), audiences=config.audiences,
                             issuers=config.issuers(tenant), http=http)
    if claims.get("tid") != tenant:
        raise Unauthorized("The sign-in token's tenant does not match its issuer.")
    if config.scope not in (claims.get("scp") or "").split():
        raise Unauthorized(f"The sign-in token lacks the permission {config.scope!r}; ask an administrator to consent.")
    if not claims.get("oid"):
        raise Unauthorized("The sign-in token names no user (oid).")
    return claims


def _claimed_tenant(token: str) -> str | None:
    """The tenant the token says it is from, read before verification only to choose its key set."""
    try:
        return jwt.decode(token, options={"verify_signature": False}).get("tid")
    except jwt.PyJWTError as exc:
        raise Unauthorized(f"The sign-in token is not a JWT: {exc}.") from exc


def user_for_claims(session: Session, config: EntraConfig, claims: dict) -> User:
    """The Sagspost user of verified Entra claims, linking them by e-mail the first time if allowed."""
    subject = f"{claims['tid']}:{claims['oid']}"
    identity = session.scalar(select(ExternalIdentity).where(ExternalIdentity.provider == PROVIDER,
                                                             ExternalIdentity.subject == subject))
    if identity is not None:
        user = identity.user
    else:
        user = _first_link(session, config, claims, subject)
    if not user.active:
        raise Forbidden("Your Sagspost user is deactivated.")
    return user


def _first_link(session: Session, config: EntraConfig, claims: dict, subject: str) -> User:
    email = claims.get("preferred_username") or claims.get("email") or claims.get("upn")
    if not config.link_by_email or not email:
        raise Forbidden("Your Microsoft account is not linked to a Sagspost user; ask an administrator to link it.")
    user = session.scalar(select(User).where(User.email.ilike(email)))
    if user is None:
        raise Forbidden(f"No Sagspost user has the e-mail address {email}; ask an administrator.")
    auth.link_identity(session, None, user, PROVIDER, subject, email)
    return user


def fetch_message_mime(config: EntraConfig, sso_token: str, item_id: str, *, http=None) -> bytes:
    """The message as MIME (RFC 822) read from the user's mailbox through Graph, on behalf of the user,
    for Outlook clients without `item.getAsFileAsync` (Mailbox 1.14)."""
    tenant = _claimed_tenant(sso_token)
    app = msal.ConfidentialClientApplication(
        config.client_id,
        client_credential=config.client_secret,
        authority=f"{config.authority}/{tenant}",
        http_client=http,
        # the authority is ours (possibly a local test issuer): no lookup at Microsoft's discovery endpoint
        instance_discovery=False,
    )
    result = app.acquire_token_on_behalf_of(sso_token, scopes=[GRAPH_MAIL_SCOPE])
    if "access_token" not in result:
        raise Unauthorized(f"Microsoft refused to let Sagspost read the message: {result.get('error_description') or result.get('error')}.")
    url = f"{config.graph_url}/v1.0/me/messages/{urllib.parse.quote(item_id, safe='')}/$value"
    try:
        response = (http or requests).get(url, headers={"Authorization": f"Bearer {result['access_token']}"}, timeout=60)
    except requests.RequestException as exc:
        raise Unavailable("Microsoft Graph does not answer; try again.") from exc
    if response.status_code == 404:
        raise Unauthorized("Graph does not find the message in your mailbox.")
    if response.status_code >= 400:
        raise Unavailable(f"Microsoft Graph answered {response.status_code} when asked for the message.")
    return response.content


# ---------------------------------------------------------------- Microsoft sign-in for the browser


def _sign_in_app(config: EntraConfig, http=None) -> msal.ConfidentialClientApplication:
    # one allowed tenant signs in at that tenant; several at "organizations" (work accounts of any)
    tenant = config.tenants[0] if len(config.tenants) == 1 else "organizations"
    return msal.ConfidentialClientApplication(
        config.client_id, client_credential=config.client_secret, authority=f"{config.authority}/{tenant}",
        http_client=http, instance_discovery=False,
    )


def browser_sign_in_enabled(config: EntraConfig) -> bool:
    """The sign-in page offers Microsoft where the app registration has a secret (a web client)."""
    return config.enabled and bool(config.client_secret)


def start_browser_sign_in(config: EntraConfig, redirect_uri: str, *, http=None) -> dict:
    """msal's authorization code flow (state, nonce, PKCE); its auth_uri is where the browser goes.

    The answer comes back as a query (a GET), not form_post, which msal suggests: a cross-site POST
    from Microsoft would not carry our SameSite=Lax session cookie, which holds the flow."""
    try:
        return _sign_in_app(config, http).initiate_auth_code_flow(
            ["User.Read"], redirect_uri=redirect_uri, prompt="select_account")
    except (requests.RequestException, ValueError) as exc:
        raise Unavailable("Microsoft's sign-in service does not answer; try again.") from exc


def claims_for_browser_answer(config: EntraConfig, flow: dict, answer: dict, *, http=None) -> dict:
    """The checked ID token claims of Microsoft's answer: msal checks state, nonce and PKCE and trades
    the code; the ID token's signature, issuer and audience are checked here against the tenant's keys."""
    try:
        result = _sign_in_app(config, http).acquire_token_by_auth_code_flow(flow, answer)
    except ValueError as exc:  # msal: the answer does not match this flow (state, nonce)
        raise Unauthorized("This Microsoft sign-in answer does not belong to this sign-in; sign in again.") from exc
    except requests.RequestException as exc:
        raise Unavailable("Microsoft's sign-in service does not answer; try again.") from exc
    if "id_token" not in result:
        raise Unauthorized(f"Microsoft refused the sign-in: {result.get('error_description') or result.get('error')}.")
    tenant = _claimed_tenant(result["id_token"])
    if tenant not in config.tenants:
        raise Unauthorized("Your organisation (Entra tenant) may not use this Sagspost.")
    claims = oidc.verify_jwt(result["id_token"], jwks_url=config.jwks_url(tenant), audiences=[config.client_id],
                             issuers=config.issuers(tenant), http=http)
    if not claims.get("oid"):
        raise Unauthorized("The sign-in token names no user (oid).")
    return claims
