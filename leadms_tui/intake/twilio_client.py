"""The Twilio REST client the intake service dials with: one `POST
/2010-04-01/Accounts/{AccountSid}/Calls.json` per click-to-call (form-encoded, HTTP Basic auth
with the account sid and auth token), as Twilio documents it.

Plain `httpx`, as `meta_client` is: the one call needs no SDK, and the answer must tell apart
"Twilio created it" (201 and the call's `sid`), "Twilio refused it" (its error JSON: `code`,
`message`, `more_info`, `status`), "try again" (429 and 5xx: nothing was created) and "no
answer came" (the request may have reached Twilio: never sent again by itself).

The call rings the rep first (`To`: `client:201`, `sip:201@...` or a number, from
`LEADMS_TWILIO_REP_ADDRESS`), shows the team's number (`From`), and its TwiML dials the lead
with the lead leg's status callbacks pointed at `/phone/twilio?extension=201`, so the call
lands on the lead's timeline as any Twilio call does; the rep leg's callbacks go to
`/phone/twilio?dial=ID`, which confirms or fails the request.
"""

import os
from dataclasses import dataclass
from urllib.parse import urlencode
from xml.sax.saxutils import escape, quoteattr

import httpx

from leadms_tui.domain.phone.dialing import Dial

DEFAULT_API_URL = "https://api.twilio.com"
CALL_EVENTS = ("initiated", "ringing", "answered", "completed")


@dataclass(frozen=True)
class TwilioConfig:
    """As whom and from which number the service places calls (the variables below)."""

    account_sid: str | None = None  # LEADMS_TWILIO_ACCOUNT_SID (AC...)
    auth_token: str | None = None  # LEADMS_TWILIO_AUTH_TOKEN (also checks the callbacks)
    caller_id: str | None = None  # LEADMS_TWILIO_CALLER_ID: the team's Twilio number, E.164
    rep_address: str = "client:{extension}"  # LEADMS_TWILIO_REP_ADDRESS: how a rep is rung
    public_url: str | None = None  # LEADMS_PUBLIC_URL: where Twilio reaches /phone/twilio
    api_url: str = DEFAULT_API_URL  # LEADMS_TWILIO_API_URL (tests: the stand-in)
    timeout: float = 15.0  # LEADMS_TWILIO_TIMEOUT: seconds for Twilio's answer; then unknown

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> "TwilioConfig":
        env = dict(os.environ if env is None else env)
        return cls(
            account_sid=env.get("LEADMS_TWILIO_ACCOUNT_SID") or None,
            auth_token=env.get("LEADMS_TWILIO_AUTH_TOKEN") or None,
            caller_id=env.get("LEADMS_TWILIO_CALLER_ID") or None,
            rep_address=env.get("LEADMS_TWILIO_REP_ADDRESS") or "client:{extension}",
            public_url=(env.get("LEADMS_PUBLIC_URL") or "").rstrip("/") or None,
            api_url=(env.get("LEADMS_TWILIO_API_URL") or DEFAULT_API_URL).rstrip("/"),
            timeout=float(env.get("LEADMS_TWILIO_TIMEOUT") or 15),
        )

    @property
    def dials(self) -> bool:
        """Whether click to call goes through Twilio: the service runs its dialer only then."""
        return bool(self.account_sid and self.auth_token and self.caller_id and self.public_url)

    def rep(self, extension: str) -> str:
        return self.rep_address.replace("{extension}", extension)

    def __repr__(self) -> str:  # never the token in a log line or a traceback
        return f"TwilioConfig(account_sid={self.account_sid!r}, auth_token=<hidden>)"


@dataclass(frozen=True)
class Created:
    sid: str  # CA...


@dataclass(frozen=True)
class Refused:
    """Twilio answered with an error, or the request certainly never left."""

    code: int | None
    message: str
    http_status: int = 0


@dataclass(frozen=True)
class Busy:
    """429 or 5xx: Twilio created nothing; try again after `retry_after` (seconds) if given."""

    http_status: int
    message: str
    retry_after: float | None = None


@dataclass(frozen=True)
class Unknown:
    reason: str


CallResult = Created | Refused | Busy | Unknown


def call_form(config: TwilioConfig, dial: Dial) -> list[tuple[str, str]]:
    """The form of the Calls.json request for `dial` (repeated keys are Twilio's lists)."""
    base = f"{config.public_url}/phone/twilio"
    lead_leg = f"{base}?{urlencode({'extension': dial.extension})}"
    events = " ".join(CALL_EVENTS)
    twiml = (
        f"<Response><Dial callerId={quoteattr(config.caller_id or '')}>"
        f"<Number statusCallback={quoteattr(lead_leg)} statusCallbackEvent={quoteattr(events)}"
        f' statusCallbackMethod="POST">{escape(dial.number)}</Number></Dial></Response>'
    )
    return [
        ("To", config.rep(dial.extension)),
        ("From", config.caller_id or ""),
        ("Twiml", twiml),
        ("StatusCallback", f"{base}?{urlencode({'dial': dial.request_id})}"),
        ("StatusCallbackMethod", "POST"),
        *[("StatusCallbackEvent", event) for event in CALL_EVENTS],
    ]


class TwilioClient:
    """One `httpx.AsyncClient` for the service's life."""

    def __init__(self, config: TwilioConfig, *, transport: httpx.AsyncBaseTransport | None = None):
        self.config = config
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(config.timeout, connect=min(5.0, config.timeout)),
            transport=transport,
            follow_redirects=False,
            auth=httpx.BasicAuth(config.account_sid or "", config.auth_token or ""),
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> "TwilioClient":
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()

    async def create_call(self, dial: Dial) -> CallResult:
        """Ask Twilio for the call of one claimed request."""
        url = f"{self.config.api_url}/2010-04-01/Accounts/{self.config.account_sid}/Calls.json"
        try:
            answer = await self._http.post(
                url,
                content=urlencode(call_form(self.config, dial)),  # a repeated key: Twilio's list
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            return Refused(None, f"Twilio could not be reached ({_words(exc)})")
        except httpx.HTTPError as exc:  # sent, or partly: whether Twilio made the call is unknown
            return Unknown(_words(exc))
        return _result(answer)


def _result(answer: httpx.Response) -> CallResult:
    try:
        document = answer.json()
    except ValueError:
        document = None
    document = document if isinstance(document, dict) else {}
    status = answer.status_code
    if status in (200, 201) and isinstance(document.get("sid"), str) and document["sid"]:
        return Created(document["sid"][:64])
    code = document.get("code") if type(document.get("code")) is int else None
    message = str(document.get("message") or answer.reason_phrase or "")[:300]
    if status == 429 or status >= 500:
        return Busy(status, message, _retry_after(answer.headers.get("retry-after")))
    if status in (200, 201):
        return Unknown("Twilio answered without the call's sid")
    return Refused(code, message, status)


def _retry_after(value: str | None) -> float | None:
    try:
        seconds = float(value or "")
    except ValueError:
        return None
    return seconds if 0 <= seconds <= 3600 else None


def _words(exc: Exception) -> str:
    return str(exc) or type(exc).__name__
