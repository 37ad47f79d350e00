"""A stand-in Twilio: posts Voice status callbacks to a StatusCallback URL the way Twilio does
(form-encoded, `X-Twilio-Signature` over the URL and the sorted parameters), for a call it
makes up, in order or not, once or twice; or forged (signed with the wrong token)."""

import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from urllib.parse import urlencode

from leadms_tui.intake.phone_routes import twilio_signature


@dataclass(frozen=True)
class Answer:
    status: int
    body: str


@dataclass
class TwilioCaller:
    url: str  # where to post (loopback)
    auth_token: str
    public_url: str | None = None  # what Twilio would sign: the public StatusCallback URL
    account_sid: str = "AC" + "0" * 32

    def post(self, params: dict[str, str], *, token: str | None = None) -> Answer:
        """One callback, signed with `token` (default: the right one)."""
        pairs = sorted(params.items())
        signature = twilio_signature(token or self.auth_token, self.public_url or self.url, pairs)
        request = urllib.request.Request(
            self.url,
            data=urlencode(pairs).encode(),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Twilio-Signature": signature,
                "User-Agent": "TwilioProxy/1.1",
            },
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as reply:
                return Answer(reply.status, reply.read().decode())
        except urllib.error.HTTPError as refused:
            return Answer(refused.code, refused.read().decode())

    def call(
        self,
        sid: str,
        *,
        caller: str,
        called: str,
        direction: str = "inbound",
        start: datetime,
        answered_after: int | None = 5,
        talk_seconds: int = 60,
        end: str = "completed",
        recording_url: str | None = None,
    ) -> Iterator[dict[str, str]]:
        """The callbacks of one call, as Twilio sends them with StatusCallbackEvent
        `initiated ringing answered completed`."""
        base = {
            "AccountSid": self.account_sid,
            "ApiVersion": "2010-04-01",
            "CallSid": sid,
            "From": caller,
            "To": called,
            "Direction": direction,
            "CallbackSource": "call-progress-events",
        }
        stamp = start.timestamp()

        def at(seconds: float) -> str:
            return format_datetime(datetime.fromtimestamp(stamp + seconds, start.tzinfo))

        yield base | {"CallStatus": "initiated", "Timestamp": at(0), "SequenceNumber": "0"}
        yield base | {"CallStatus": "ringing", "Timestamp": at(1), "SequenceNumber": "1"}
        if answered_after is not None:
            yield base | {
                "CallStatus": "in-progress",
                "Timestamp": at(answered_after),
                "SequenceNumber": "2",
            }
        ended = (answered_after or 0) + (talk_seconds if answered_after is not None else 20)
        last = base | {"CallStatus": end, "Timestamp": at(ended), "SequenceNumber": "3"}
        if answered_after is not None:
            last["CallDuration"] = str(talk_seconds)
        if recording_url:
            last |= {"RecordingUrl": recording_url, "RecordingSid": "RE" + sid[2:]}
        yield last
