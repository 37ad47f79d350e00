"""`leadms reports`: what each rep and the team did, as a table, CSV or JSON."""

import csv
import io
import json
from typing import Annotated

import typer

from leadms_tui.cli.common import CLIError, acting, day_option, echo, open_db

app = typer.Typer(
    help="Coaching reports: reps, days, the weekly missed-commitment rate.", no_args_is_help=True
)
FORMATS = ("table", "csv", "json")
COLUMNS = [  # (header, RepReport field) of the table and the CSV
    ("rep", "rep"),
    ("received", "leads_received"),
    ("first_response_median_min", "first_response_median_minutes"),
    ("first_response_p90_min", "first_response_p90_minutes"),
    ("within_target", "answered_within_target"),
    ("calls", "calls"),
    ("connect_rate", "connect_rate"),
    ("followups_due", "followups_due"),
    ("followups_done", "followups_done"),
    ("followups_missed", "followups_missed"),
    ("meetings_booked", "meetings_booked"),
    ("meetings_held", "meetings_held"),
    ("meetings_no_show", "meetings_no_show"),
    ("conversions", "conversions"),
    ("conversion_rate", "conversion_rate"),
    ("deal_value", "deal_value"),
    ("commission", "commission"),
    ("commitments_due", "commitments_due"),
    ("commitments_missed", "commitments_missed"),
    ("missed_commitment_rate", "missed_commitment_rate"),
    ("missed_rate_previous_period", "missed_commitment_rate_before"),
    ("messages_sent", "messages_sent"),
    ("replies_in_window", "replies_in_window"),
    ("phone_calls", "phone_calls"),
    ("answer_rate", "answer_rate"),
    ("calls_per_hour", "calls_per_hour"),
    ("talk_seconds", "talk_seconds"),
]


def _period(session, date_from: str, date_to: str):  # type: ignore[no-untyped-def]
    """The report range asked for: days as typed anywhere, from 1900 at the earliest."""
    from leadms_tui.domain.reports.coaching import Period

    start = day_option(session, date_from, "--from", historic=True)
    end = day_option(session, date_to, "--to", historic=True)
    if end < start:
        raise CLIError("--to is before --from", exit_code=2)
    return Period(start, end)


def _format(value: str) -> str:
    if value not in FORMATS:
        raise CLIError(f"--format {value!r}: use table, csv or json", exit_code=2)
    return value


def _plain(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4f}".rstrip("0").rstrip(".") if value % 1 else f"{value:.0f}"
    return str(value)


def _scope(ctx: typer.Context, session, rep: str | None) -> str | None:  # type: ignore[no-untyped-def]
    """Reps see their own numbers; managers and admins anyone's, or the team's."""
    actor = acting(ctx, session)
    if actor.is_rep:
        if rep not in (None, actor.name):
            raise CLIError("a rep sees their own report only")
        return actor.name
    return rep


@app.command("reps")
def reps(
    ctx: typer.Context,
    date_from: Annotated[
        str, typer.Option("--from", help="First day, YYYY-MM-DD (team timezone).")
    ],
    date_to: Annotated[str, typer.Option("--to", help="Last day, YYYY-MM-DD (inclusive).")],
    rep: Annotated[str | None, typer.Option("--rep", help="One rep (and the team row).")] = None,
    output: Annotated[str, typer.Option("--format", help="table, csv or json.")] = "table",
) -> None:
    """One row per rep and a TEAM row: response, calls, follow-ups, meetings, conversions."""
    from leadms_tui.domain.reports.coaching import coaching_report

    fmt = _format(output)
    with open_db(ctx).reading() as session:
        period = _period(session, date_from, date_to)
        rows = coaching_report(session, period, rep=_scope(ctx, session, rep))
    if fmt == "json":
        for row in rows:
            echo(json.dumps(row.as_json(), ensure_ascii=False))
        return
    table = [[_plain(getattr(row, name)) for _, name in COLUMNS] for row in rows]
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow([header for header, _ in COLUMNS] + ["outcomes", "message_failures"])
        for row, cells in zip(rows, table, strict=True):
            outcomes = ";".join(f"{k}={v}" for k, v in sorted(row.outcomes.items()))
            failures = ";".join(f"{k}={v}" for k, v in sorted(row.message_failures.items()))
            writer.writerow([*cells, outcomes, failures])
        echo(buffer.getvalue().rstrip("\n"))
        return
    shown = [0, 1, 2, 4, 5, 6, 7, 9, 12, 13, 14, 15, 19, 20, 21, 22, 23, 24, 25, 26]
    headers = [COLUMNS[i][0].replace("_", " ") for i in shown] + ["message failures"]
    for cells, row in zip(table, rows, strict=True):
        cells.append(_failures(row.message_failures))
    shown.append(len(COLUMNS))
    widths = [
        max(len(headers[j]), *(len(cells[i]) for cells in table)) for j, i in enumerate(shown)
    ]
    echo("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())
    for cells in table:
        echo("  ".join(cells[i].ljust(w) for i, w in zip(shown, widths, strict=True)).rstrip())


def _failures(by_code: dict[str, int]) -> str:
    """ "131047=2 131026=1": failed replies by Meta's error code, the most first."""
    ordered = sorted(by_code.items(), key=lambda item: (-item[1], item[0]))
    return " ".join(f"{code}={count}" for code, count in ordered)


RESPONSE_COLUMNS = [
    "rep",
    "received",
    "touched",
    "within_target",
    "untouched",
    "first_response_median_min",
    "first_response_p90_min",
    "rerouted_away",
    "rerouted_to",
]


@app.command("response")
def response(
    ctx: typer.Context,
    date_from: Annotated[str | None, typer.Option("--from", help="First day, YYYY-MM-DD.")] = None,
    date_to: Annotated[
        str | None, typer.Option("--to", help="Last day, YYYY-MM-DD (inclusive).")
    ] = None,
    rep: Annotated[str | None, typer.Option("--rep", help="One rep (and the team row).")] = None,
    output: Annotated[str, typer.Option("--format", help="table, csv or json.")] = "table",
    simulate: Annotated[
        bool,
        typer.Option("--simulate", help="Replay the last --days with a ladder: before and after."),
    ] = False,
    days: Annotated[
        int, typer.Option("--days", min=1, max=366, help="Days replayed by --simulate.")
    ] = 30,
    ladder: Annotated[
        str | None,
        typer.Option(
            "--ladder", help='Ladder to try, e.g. "5:owner,10:managers,15:offer,20:reassign".'
        ),
    ] = None,
) -> None:
    """Speed to lead per rep and team: touched within target, median and p90 first response
    (business minutes), leads rerouted away and to; or --simulate a ladder on past intake."""
    from leadms_tui.domain.reports.response import response_report, simulate_ladder

    fmt = _format(output)
    if simulate:
        with open_db(ctx).reading() as session:
            if acting(ctx, session).is_rep:
                raise CLIError("the what-if replays the whole team: managers and admins only")
            what_if = simulate_ladder(session, days=days, ladder=ladder)
        if fmt == "table":
            for key, value in what_if.as_json().items():
                echo(f"{key.replace('_', ' ')}: {_plain(value)}")
        elif fmt == "csv":
            echo(",".join(what_if.as_json()))
            echo(",".join(_plain(v) for v in what_if.as_json().values()))
        else:
            echo(json.dumps(what_if.as_json()))
        return
    if date_from is None or date_to is None:
        raise CLIError("--from and --to are needed (or --simulate)", exit_code=2)
    with open_db(ctx).reading() as session:
        period = _period(session, date_from, date_to)
        rows = response_report(session, period, rep=_scope(ctx, session, rep))
    if fmt == "json":
        for row in rows:
            echo(json.dumps(row.as_json(), ensure_ascii=False))
        return
    table = [[_plain(getattr(row, name)) for name in RESPONSE_COLUMNS] for row in rows]
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerows([RESPONSE_COLUMNS, *table])
        echo(buffer.getvalue().rstrip("\n"))
        return
    headers = [name.replace("_", " ").replace("first response ", "") for name in RESPONSE_COLUMNS]
    widths = [max(len(h), *(len(cells[i]) for cells in table)) for i, h in enumerate(headers)]
    echo("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)))
    for cells in table:
        echo("  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)))


@app.command("daily")
def daily(
    ctx: typer.Context,
    date_from: Annotated[str, typer.Option("--from", help="First day, YYYY-MM-DD.")],
    date_to: Annotated[str, typer.Option("--to", help="Last day, YYYY-MM-DD (inclusive).")],
    rep: Annotated[str | None, typer.Option("--rep", help="One rep's calls.")] = None,
    output: Annotated[str, typer.Option("--format", help="table, csv or json.")] = "table",
) -> None:
    """Calls per day (team timezone) and outcome."""
    from leadms_tui.domain.reports.coaching import daily_calls
    from leadms_tui.domain.team.users import get_user

    fmt = _format(output)
    with open_db(ctx).reading() as session:
        period = _period(session, date_from, date_to)
        who = _scope(ctx, session, rep)
        rep_id = get_user(session, who).id if who else None
        rows = daily_calls(session, period, rep_id=rep_id)
    if fmt == "json":
        for day, outcome, count in rows:
            echo(json.dumps({"day": day.isoformat(), "outcome": outcome, "calls": count}))
    elif fmt == "csv":
        echo("day,outcome,calls")
        for day, outcome, count in rows:
            echo(f"{day.isoformat()},{outcome},{count}")
    else:
        for day, outcome, count in rows:
            echo(f"{day:%a %Y-%m-%d}  {outcome:<20} {count:>6}")


@app.command("commitments")
def commitments(
    ctx: typer.Context,
    weeks: Annotated[
        int, typer.Option("--weeks", min=1, max=104, help="How many weeks back.")
    ] = 12,
    rep: Annotated[str | None, typer.Option("--rep", help="One rep's commitments.")] = None,
    output: Annotated[str, typer.Option("--format", help="table, csv or json.")] = "table",
) -> None:
    """The weekly missed-commitment rate (follow-ups, meetings, onboarding tasks)."""
    from leadms_tui.domain import clock
    from leadms_tui.domain.reports.coaching import weekly_missed
    from leadms_tui.domain.team.settings import load_settings
    from leadms_tui.domain.team.users import get_user

    fmt = _format(output)
    with open_db(ctx).reading() as session:
        who = _scope(ctx, session, rep)
        rep_id = get_user(session, who).id if who else None
        today = clock.business_date(clock.now(), load_settings(session).timezone)
        rows = weekly_missed(session, weeks=weeks, today=today, rep_id=rep_id)
    if fmt == "json":
        for w in rows:
            echo(
                json.dumps(
                    {
                        "week": w.week.isoformat(),
                        "due": w.due,
                        "missed": w.missed,
                        "rate": None if w.rate is None else round(w.rate, 4),
                    }
                )
            )
    elif fmt == "csv":
        echo("week,due,missed,rate")
        for w in rows:
            echo(f"{w.week.isoformat()},{w.due},{w.missed},{_plain(w.rate)}")
    else:
        for w in rows:
            bar = "█" * round((w.rate or 0) * 40)
            rate = "  -  " if w.rate is None else f"{w.rate:5.1%}"
            echo(f"week of {w.week:%d %b %Y}  {w.missed:>4}/{w.due:<4} {rate}  {bar}")
