"""The Graph API client the intake service sends with: WhatsApp Cloud API and Messenger Send API
messages, and the business account's message templates.

Plain `httpx`: the three calls are one JSON POST or GET each, and no maintained Python client
for the Cloud API covers both WhatsApp and Messenger, lets a send carry
`biz_opaque_callback_data` and `metadata`, or tells a lost answer from a refusal (what "never
twice" rests on). Only the intake service holds the tokens (environment variables).

A send ends in one of three ways:
- `Sent`: Meta took it (its message id);
- `Refused`: Meta answered with an error (its code, title and details), or the request
  certainly never left (no connection): nothing was sent;
- `Unknown`: the request may have reached Meta but no answer came (a timeout, a dropped
  connection, a 5xx without Meta's error body). Never resent by itself: the row stays
  `sending` until a status webhook or echo says what happened, or it expires as unconfirmed.
"""

import os
from dataclasses import dataclass
from typing import Any

import httpx

from leadms_tui.domain.chat.outbox import Claim
from leadms_tui.domain.models import Channel

DEFAULT_GRAPH_URL = "https://graph.facebook.com/v21.0"
MAX_TEMPLATE_PAGES = 100  # 100 pages of 100: far beyond any business account


@dataclass(frozen=True)
class MetaConfig:
    """Where and as whom the service talks to Meta (the environment variables below)."""

    graph_url: str = DEFAULT_GRAPH_URL  # LEADMS_META_GRAPH_URL (with its version)
    whatsapp_token: str | None = None  # LEADMS_WHATSAPP_TOKEN
    phone_number_id: str | None = None  # LEADMS_WHATSAPP_PHONE_NUMBER_ID
    business_account_id: str | None = None  # LEADMS_WHATSAPP_BUSINESS_ACCOUNT_ID (templates)
    page_token: str | None = None  # LEADMS_MESSENGER_PAGE_TOKEN
    page_id: str | None = None  # LEADMS_MESSENGER_PAGE_ID
    timeout: float = 15.0  # LEADMS_META_TIMEOUT: seconds for Meta's answer; then "unknown"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> "MetaConfig":
        env = dict(os.environ if env is None else env)
        return cls(
            graph_url=(env.get("LEADMS_META_GRAPH_URL") or DEFAULT_GRAPH_URL).rstrip("/"),
            whatsapp_token=env.get("LEADMS_WHATSAPP_TOKEN") or None,
            phone_number_id=env.get("LEADMS_WHATSAPP_PHONE_NUMBER_ID") or None,
            business_account_id=env.get("LEADMS_WHATSAPP_BUSINESS_ACCOUNT_ID") or None,
            page_token=env.get("LEADMS_MESSENGER_PAGE_TOKEN") or None,
            page_id=env.get("LEADMS_MESSENGER_PAGE_ID") or None,
            timeout=float(env.get("LEADMS_META_TIMEOUT") or 15),
        )

    def sends(self, channel: Channel) -> bool:
        if channel == Channel.WHATSAPP:
            return bool(self.whatsapp_token and self.phone_number_id)
        if channel == Channel.MESSENGER:
            return bool(self.page_token and self.page_id)
        return False

    @property
    def configured(self) -> bool:
        """Whether any channel can send: the service runs its sender only then."""
        return self.sends(Channel.WHATSAPP) or self.sends(Channel.MESSENGER)

    def __repr__(self) -> str:  # never a token in a log line or a traceback
        return f"MetaConfig(graph_url={self.graph_url!r}, tokens=<hidden>)"


@dataclass(frozen=True)
class Sent:
    provider_id: str  # wamid... or m_...


@dataclass(frozen=True)
class Refused:
    code: int | None
    title: str | None
    detail: str | None
    http_status: int = 0


@dataclass(frozen=True)
class Unknown:
    reason: str


SendResult = Sent | Refused | Unknown


class MetaError(Exception):
    """A Graph API call other than a send failed (templates): a sentence for a person."""


class MetaClient:
    """One `httpx.AsyncClient` for the service's life (connections reused)."""

    def __init__(self, config: MetaConfig, *, transport: httpx.AsyncBaseTransport | None = None):
        self.config = config
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(config.timeout, connect=min(5.0, config.timeout)),
            transport=transport,
            follow_redirects=False,
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> "MetaClient":
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()

    async def send(self, claim: Claim) -> SendResult:
        """Send one claimed attempt, its key riding along."""
        config = self.config
        if not config.sends(claim.channel):
            variable = (
                "LEADMS_WHATSAPP_TOKEN and LEADMS_WHATSAPP_PHONE_NUMBER_ID"
                if claim.channel == Channel.WHATSAPP
                else "LEADMS_MESSENGER_PAGE_TOKEN and LEADMS_MESSENGER_PAGE_ID"
            )
            return Refused(
                None,
                f"{claim.channel.value} sending is not configured",
                f"the intake service needs {variable}",
            )
        if claim.channel == Channel.WHATSAPP:
            node, token, body = config.phone_number_id, config.whatsapp_token, whatsapp_body(claim)
        else:
            node, token, body = config.page_id, config.page_token, messenger_body(claim)
        try:
            answer = await self._http.post(
                f"{config.graph_url}/{node}/messages",
                json=body,
                headers={"Authorization": f"Bearer {token}"},
            )
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            # no connection was made: Meta cannot have seen it
            return Refused(None, "Meta could not be reached", _words(exc))
        except httpx.HTTPError as exc:  # sent, or partly: whether Meta took it is unknown
            return Unknown(_words(exc))
        return _send_result(answer, claim.channel)

    async def list_templates(self, *, page_size: int = 100) -> list[dict[str, Any]]:
        """Every message template of the business account (following `paging.next`)."""
        config = self.config
        if not (config.whatsapp_token and config.business_account_id):
            raise MetaError(
                "set LEADMS_WHATSAPP_TOKEN and LEADMS_WHATSAPP_BUSINESS_ACCOUNT_ID to read the "
                "templates"
            )
        url = f"{config.graph_url}/{config.business_account_id}/message_templates"
        params: dict[str, Any] | None = {
            "limit": page_size,
            "fields": "name,language,category,status,components",
        }
        headers = {"Authorization": f"Bearer {config.whatsapp_token}"}
        listed: list[dict[str, Any]] = []
        for _ in range(MAX_TEMPLATE_PAGES):
            try:
                answer = await self._http.get(url, params=params, headers=headers)
            except httpx.HTTPError as exc:
                raise MetaError(f"Meta could not be reached: {_words(exc)}") from None
            document = _json(answer)
            if answer.status_code != 200 or not isinstance(document, dict):
                code, title, detail = meta_error(document)
                words = " — ".join(p for p in (title, detail) if p) or f"HTTP {answer.status_code}"
                raise MetaError(
                    f"Meta refused the template list ({code or answer.status_code}): {words}"
                )
            listed += [t for t in document.get("data") or [] if isinstance(t, dict)]
            paging = document.get("paging") if isinstance(document.get("paging"), dict) else {}
            following = paging.get("next")
            if not isinstance(following, str) or not following:
                return listed
            if not _same_origin(following, config.graph_url):  # our token goes only to Meta
                raise MetaError("the template list's next page is not on the Graph API host")
            url, params = following, None
        raise MetaError(f"more than {MAX_TEMPLATE_PAGES} pages of templates: stopped")


def whatsapp_body(claim: Claim) -> dict[str, Any]:
    """The Cloud API request for a claim: text, or a template with its body parameters."""
    body: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": claim.recipient,
        "biz_opaque_callback_data": claim.key,
    }
    if claim.kind == "template":
        template: dict[str, Any] = {
            "name": claim.template_name,
            "language": {"code": claim.template_language},
        }
        if claim.parameters:
            template["components"] = [
                {
                    "type": "body",
                    "parameters": [{"type": "text", "text": p} for p in claim.parameters],
                }
            ]
        return {**body, "type": "template", "template": template}
    return {**body, "type": "text", "text": {"preview_url": False, "body": claim.body}}


def messenger_body(claim: Claim) -> dict[str, Any]:
    """The Send API request: RESPONSE within 24 hours, MESSAGE_TAG + HUMAN_AGENT past them;
    the key rides in `metadata` and comes back in the echo."""
    body: dict[str, Any] = {
        "recipient": {"id": claim.recipient},
        "messaging_type": "MESSAGE_TAG" if claim.tag else "RESPONSE",
        "message": {"text": claim.body, "metadata": claim.key},
    }
    if claim.tag:
        body["tag"] = claim.tag  # HUMAN_AGENT_TAG: a person's reply, up to 7 days
    return body


def meta_error(document: Any) -> tuple[int | None, str | None, str | None]:
    """(code, title, detail) of Meta's error JSON; Nones for anything else."""
    error = document.get("error") if isinstance(document, dict) else None
    if not isinstance(error, dict):
        return None, None, None
    code = error.get("code")
    code = code if isinstance(code, int) and not isinstance(code, bool) else None
    title = error.get("error_user_title") or error.get("message")
    data = error.get("error_data")
    detail = data.get("details") if isinstance(data, dict) else data
    detail = detail or error.get("error_user_msg")
    return (
        code,
        str(title)[:300] if title else None,
        str(detail)[:1000] if detail else None,
    )


def _send_result(answer: httpx.Response, channel: Channel) -> SendResult:
    document = _json(answer)
    if answer.status_code == 200 and isinstance(document, dict):
        if channel == Channel.WHATSAPP:
            messages = document.get("messages")
            first = messages[0] if isinstance(messages, list) and messages else None
            provider_id = first.get("id") if isinstance(first, dict) else None
        else:
            provider_id = document.get("message_id")
        if isinstance(provider_id, str) and provider_id:
            return Sent(provider_id)
        return Unknown("Meta answered 200 without a message id")
    code, title, detail = meta_error(document)
    if code is None and title is None:
        if answer.status_code >= 500 or answer.status_code == 200:
            return Unknown(f"HTTP {answer.status_code} without Meta's answer")
        if answer.status_code == 429:
            code = 4  # throttled without a body: back off as for Meta's call limit
    return Refused(code, title or f"HTTP {answer.status_code}", detail, answer.status_code)


def _same_origin(url: str, base: str) -> bool:
    there, here = httpx.URL(url), httpx.URL(base)
    return (there.scheme, there.host, there.port) == (here.scheme, here.host, here.port)


def _json(answer: httpx.Response) -> Any:
    try:
        return answer.json()
    except ValueError:
        return None


def _words(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"[:300] if str(exc) else type(exc).__name__
