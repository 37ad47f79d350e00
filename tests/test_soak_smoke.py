"""The intake soak runs end to end for a few seconds: nothing lost or doubled, no 5xx.

No timing and no memory figure is asserted (a few seconds is no soak); the ten-minute run is
`python -m bench.soak`.
"""

import pytest

from bench.soak import run_soak

pytestmark = pytest.mark.slow  # started first on the test workers


def test_a_short_soak_loses_and_doubles_nothing(db_url, tmp_path):
    engine = "sqlite" if db_url.startswith("sqlite") else "postgres"
    result = run_soak(
        engine, seconds=20, clients=5, max_requests=400, warmup=1, url=db_url, workdir=tmp_path
    )
    assert result.requests >= 100
    assert {k: v for k, v in result.failures.items() if k != "rss"} == {}
    assert result.answers.statuses["5xx"] == result.answers.statuses["errors"] == 0
    assert result.leads_found == result.leads_expected > 0
    assert result.inquiries_found == result.inquiries_expected > result.leads_expected
    # the traffic had what makes the counts interesting: duplicates, retries, junk
    for kind in ("whatsapp duplicate", "whatsapp retry", "messenger retry", "whatsapp forged"):
        assert result.sent[kind] > 0, kind
    assert result.answers.statuses["4xx"] > 0
