"""Whatever a client sends to any endpoint, the intake service answers without a 5xx.

Property tests over raw bytes, Meta-shaped deliveries with hostile values, form fields in every
encoding and random query strings, on SQLite and PostgreSQL, against the real app under uvicorn.
The one 5xx allowed is 503, and only while the database is down. Then schemathesis drives the
app from its own OpenAPI description (`/openapi.json`).
"""

import json
from urllib.parse import quote, urlencode

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from leadms_tui.domain.models import IntakeReject
from leadms_tui.intake.service import IntakeConfig, create_app
from tests.intake.test_service import ORIGIN, SECRET, TOKEN, _signed, _take_down, serving

CONFIG = IntakeConfig(
    verify_token=TOKEN,
    app_secret=SECRET,
    allowed_origins=(ORIGIN,),
    form_posts_per_minute=1_000_000,  # the limiter would answer 429 before anything is parsed
    sweep_seconds=0,
)
FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def client(db):
    with serving(create_app(db, CONFIG)) as url, httpx.Client(base_url=url, timeout=30) as http:
        yield http


@pytest.fixture
def down_client(db):
    """The same, with the database refusing from the first request on."""
    with serving(create_app(db, CONFIG)) as url, httpx.Client(base_url=url, timeout=30) as http:
        _take_down(db)
        yield http


# --- what a hostile client sends -------------------------------------------------------------

# Text with what breaks storage, logs and terminals mixed in often (as a plain alphabet they
# would be drawn about once in 200): NUL, lone surrogates, C1, bidi overrides, line breaks.
NASTY_CHARS = ["\x00", "\ud800", "\udfff", "\x85", "\u202e", "\r\n", "%", "&", "é", "☎"]
NASTY = st.lists(st.sampled_from(NASTY_CHARS) | st.text(max_size=8), max_size=6).map("".join)
# Header values: printable ASCII, without the surrounding spaces no client would send.
PRINTABLE = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40
).map(str.strip)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | NASTY,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(NASTY, inner, max_size=3),
    max_leaves=8,
)
CONTENT_TYPES = (
    st.sampled_from(
        [
            "application/json",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=xyz",
            "multipart/form-data",
            "multipart/form-data; boundary=",
            "application/json; charset=utf-16",
            "text/plain",
            "",
        ]
    )
    | PRINTABLE
)


def _quoted(text: str) -> str:
    return quote(text.encode("utf-8", "surrogatepass"), safe="")


PATHS = st.sampled_from(["/webhooks/whatsapp", "/webhooks/messenger", "/healthz", "/openapi.json"])
PATHS |= NASTY.map(lambda slug: f"/forms/{_quoted(slug) or 'x'}")
PATHS |= NASTY.map(lambda name: f"/webhooks/{_quoted(name) or 'x'}")
BODIES = st.binary(max_size=400) | NASTY.map(lambda t: t.encode("utf-8", "surrogatepass"))
BODIES |= JSON_VALUES.map(lambda v: json.dumps(v).encode())
# What a hostile client sends on purpose, rarely drawn at random: recursion, the int digit limit,
# a sender id no column holds, a body that is only a NUL.
BODIES |= st.sampled_from(
    [
        b"[" * 1000 + b"]" * 1000,
        b'{"entry": ' * 900 + b"1" + b"}" * 900,
        b'{"object": "page", "entry": [' + b"9" * 5000 + b"]}",
        json.dumps(
            {"object": "page", "entry": [{"messaging": [{"sender": {"id": "7" * 300}}]}]}
        ).encode(),
        b"\x00",
    ]
)


def _rejected(db) -> int:
    with db.reading() as session:
        return session.scalar(select(func.count()).select_from(IntakeReject))


@FUZZ
@given(
    path=PATHS,
    body=BODIES,
    content_type=CONTENT_TYPES,
    signed=st.booleans(),
    origin=st.none() | st.just(ORIGIN) | PRINTABLE,
)
def test_any_bytes_to_any_endpoint(client, path, body, content_type, signed, origin):
    headers = {"Content-Type": content_type}
    if signed:
        headers["X-Hub-Signature-256"] = _signed(body)["X-Hub-Signature-256"]
    if origin is not None:
        headers["Origin"] = origin
    reply = client.post(path, content=body, headers=headers)
    assert reply.status_code < 500, reply.text


WHATSAPP_MESSAGES = st.fixed_dictionaries(
    {
        "from": st.from_regex(r"\A[1-9][0-9]{6,14}\Z")
        | st.from_regex(r"\A[0-9]{120,140}\Z")  # around the 128 a sender id may have
        | NASTY
        | JSON_VALUES,
        "id": NASTY,
    },
    optional={
        "type": st.sampled_from(["text", "image", "interactive", "button", "reaction"]) | NASTY,
        "timestamp": JSON_VALUES,
        "text": st.fixed_dictionaries({"body": NASTY}) | JSON_VALUES,
        "image": JSON_VALUES,
    },
)
# What Meta says of our replies: keys of ours (some naming no row, or past any id column),
# statuses of every kind, errors of any shape.
KEYS = st.builds(
    "leadms:{}:{}".format,
    st.integers(0, 3) | st.integers(2**31, 10**25),
    st.integers(0, 3),
)
WHATSAPP_STATUSES = st.fixed_dictionaries(
    {"status": st.sampled_from(["sent", "delivered", "read", "failed", "deleted"]) | NASTY},
    optional={
        "id": NASTY | st.integers(),
        "biz_opaque_callback_data": KEYS | NASTY | JSON_VALUES,
        "timestamp": JSON_VALUES | st.integers().map(str),
        "recipient_id": NASTY | JSON_VALUES,
        "errors": st.lists(
            st.fixed_dictionaries(
                {"code": st.integers() | JSON_VALUES, "title": NASTY | JSON_VALUES},
                optional={"error_data": JSON_VALUES, "message": NASTY},
            )
            | JSON_VALUES,
            max_size=2,
        ),
    },
)
WHATSAPP = st.fixed_dictionaries(
    {
        "object": st.just("whatsapp_business_account"),
        "entry": st.lists(
            st.fixed_dictionaries(
                {
                    "changes": st.lists(
                        st.fixed_dictionaries(
                            {
                                "value": st.fixed_dictionaries(
                                    {"messages": st.lists(WHATSAPP_MESSAGES | JSON_VALUES)},
                                    optional={
                                        "contacts": JSON_VALUES,
                                        "statuses": st.lists(WHATSAPP_STATUSES | JSON_VALUES),
                                    },
                                )
                            }
                        )
                        | JSON_VALUES,
                        max_size=2,
                    )
                }
            )
            | JSON_VALUES,
            max_size=2,
        ),
    }
)
MESSENGER_EVENTS = st.fixed_dictionaries(
    {"sender": st.fixed_dictionaries({"id": NASTY | st.integers() | JSON_VALUES})},
    optional={
        "message": st.fixed_dictionaries({"mid": NASTY, "text": NASTY}) | JSON_VALUES,
        "postback": st.fixed_dictionaries({"title": NASTY, "payload": JSON_VALUES}),
        "timestamp": JSON_VALUES,
        "recipient": st.fixed_dictionaries({"id": NASTY | JSON_VALUES}),
    },
)
MESSENGER_STATUS_EVENTS = st.fixed_dictionaries(
    {"sender": st.fixed_dictionaries({"id": NASTY | st.integers() | JSON_VALUES})},
    optional={
        "message": st.fixed_dictionaries(
            {"is_echo": st.just(True) | JSON_VALUES},
            optional={"metadata": KEYS | NASTY | JSON_VALUES, "mid": NASTY | JSON_VALUES},
        ),
        "delivery": st.fixed_dictionaries(
            {"watermark": st.integers() | JSON_VALUES},
            optional={"mids": st.lists(NASTY | JSON_VALUES, max_size=3) | JSON_VALUES},
        ),
        "read": st.fixed_dictionaries({"watermark": st.integers() | JSON_VALUES}),
        "timestamp": JSON_VALUES | st.integers(),
    },
)
MESSENGER = st.fixed_dictionaries(
    {
        "object": st.sampled_from(["page", "instagram"]),
        "entry": st.lists(
            st.fixed_dictionaries(
                {"messaging": st.lists(MESSENGER_EVENTS | MESSENGER_STATUS_EVENTS | JSON_VALUES)}
            )
            | JSON_VALUES,
            max_size=2,
        ),
    }
)


@FUZZ
@given(
    delivery=st.tuples(st.just("whatsapp"), WHATSAPP) | st.tuples(st.just("messenger"), MESSENGER)
)
def test_signed_deliveries_with_hostile_values(client, db, delivery):
    channel, document = delivery
    body = json.dumps(document).encode()  # ensure_ascii: NULs and surrogates as escapes
    before = _rejected(db)
    reply = client.post(f"/webhooks/{channel}", content=body, headers=_signed(body))
    assert reply.status_code == 200, reply.text
    tally = reply.json()
    # Every message is stored, a known re-delivery, or set aside and kept: none is lost.
    assert tally["created"] + tally["appended"] + tally["rejected"] <= tally["received"]
    assert _rejected(db) - before == tally["rejected"]
    assert tally["statuses"] >= 0  # reports on our replies: applied or harmlessly no-ops


def _encoded(fields: dict[str, str], encoding: str) -> tuple[bytes, str]:
    if encoding == "json":
        return json.dumps(fields).encode(), "application/json"
    if encoding == "urlencoded":
        return urlencode(fields, errors="surrogatepass").encode(), (
            "application/x-www-form-urlencoded"
        )
    parts = [
        f'--xyz\r\nContent-Disposition: form-data; name="{_quoted(k)}"\r\n\r\n{v}\r\n'
        for k, v in fields.items()
    ]
    return ("".join(parts) + "--xyz--\r\n").encode("utf-8", "surrogatepass"), (
        "multipart/form-data; boundary=xyz"
    )


FIELD_NAMES = st.sampled_from(
    ["name", "phone", "email", "message", "utm_source", "_redirect", "_gotcha", "first_name"]
)


@FUZZ
@given(
    fields=st.dictionaries(FIELD_NAMES | NASTY, NASTY, max_size=6),
    encoding=st.sampled_from(["json", "urlencoded", "multipart"]),
    slug=NASTY,
)
def test_form_fields_of_any_text_in_every_encoding(client, fields, encoding, slug):
    body, content_type = _encoded(fields, encoding)
    reply = client.post(
        f"/forms/{_quoted(slug) or 'contact'}", content=body, headers={"Content-Type": content_type}
    )
    # 404: a slug with a "/" in it (sent as %2F) or a dot segment names no form.
    assert reply.status_code in (200, 303, 400, 404, 422), reply.text


@FUZZ
@given(
    channel=st.sampled_from(["whatsapp", "messenger"]) | NASTY,
    params=st.dictionaries(
        st.sampled_from(["hub.mode", "hub.verify_token", "hub.challenge"]) | NASTY, NASTY
    ),
)
def test_verification_with_any_query(client, channel, params):
    query = urlencode(params, errors="surrogatepass")
    reply = client.get(f"/webhooks/{_quoted(channel) or 'x'}?{query}")
    assert reply.status_code in (200, 403, 404), reply.text


@settings(FUZZ, max_examples=30)
@given(path=PATHS, body=BODIES, content_type=CONTENT_TYPES, signed=st.booleans())
def test_with_the_database_down_only_503(down_client, path, body, content_type, signed):
    headers = {"Content-Type": content_type}
    if signed:
        headers["X-Hub-Signature-256"] = _signed(body)["X-Hub-Signature-256"]
    reply = down_client.post(path, content=body, headers=headers)
    assert reply.status_code < 500 or reply.status_code == 503, reply.text
    assert down_client.get("/healthz").status_code == 503


# --- schemathesis, from the service's own OpenAPI description --------------------------------


# (drawn with plain hypothesis: schemathesis's pytest plugin breaks on pytest 9)


def test_schemathesis_finds_no_server_error(db):
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(db, CONFIG))
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 4  # health, webhook check and post, forms: the draw covers them

    @given(case=schema.as_strategy())
    @settings(
        max_examples=25 * len(operations), deadline=None, suppress_health_check=list(HealthCheck)
    )
    def no_server_error(case):
        response = case.call()
        assert response.status_code < 500, (case.method, case.path, response.text)

    no_server_error()
