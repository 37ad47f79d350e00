"""The `leadms` command: the TUI by default, and one sub-command group per area."""

from typing import Annotated

import typer

from leadms_tui.cli import (
    assign,
    audit,
    auth,
    bench,
    calls,
    clients,
    commissions,
    db,
    demo,
    fields,
    followups,
    imports,
    intake,
    leads,
    meetings,
    messages,
    onboarding,
    people,
    phone,
    reports,
    rules,
    settings,
    templates,
    users,
    web,
)
from leadms_tui.cli.common import LeadMSGroup, database_url, open_noting_new, options

app = typer.Typer(
    cls=LeadMSGroup,
    help="Lead MS: a keyboard-first terminal CRM. Without a command, opens the TUI.",
    invoke_without_command=True,
    add_completion=True,  # leadms --install-completion / --show-completion
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(db.app, name="db")
app.add_typer(settings.app, name="settings")
app.add_typer(users.app, name="users")
app.add_typer(leads.app, name="leads")
app.add_typer(imports.app, name="import")
app.add_typer(intake.app, name="intake")
app.add_typer(calls.app, name="calls")
app.add_typer(followups.app, name="followups")
app.add_typer(meetings.app, name="meetings")
app.add_typer(messages.app, name="messages")
app.add_typer(clients.app, name="clients")
app.add_typer(commissions.app, name="commissions")
app.add_typer(onboarding.app, name="onboarding")
app.add_typer(fields.app, name="fields")
app.add_typer(assign.app, name="assign")
app.add_typer(reports.app, name="reports")
app.add_typer(fields.files_app, name="files")
app.add_typer(rules.app, name="rules")
app.add_typer(phone.app, name="phone")
app.add_typer(bench.app, name="bench")
app.add_typer(auth.tokens_app, name="tokens")
app.add_typer(templates.app, name="templates")
app.add_typer(people.app, name="people")
app.add_typer(audit.app, name="audit")
app.command("demo")(demo.demo)
app.command("web")(web.web)
app.command("login")(auth.login)
app.command("logout")(auth.logout)
app.command("whoami")(auth.whoami)


@app.callback()
def root(
    ctx: typer.Context,
    database_url_option: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            envvar="LEADMS_DATABASE_URL",
            help="SQLite or PostgreSQL URL; default: leadms.db in the user data directory.",
        ),
    ] = None,
    user: Annotated[
        str | None, typer.Option("--user", help="Preselect this user at login.")
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    if version:
        from importlib.metadata import version as installed

        typer.echo(f"leadms {installed('leadms')}")
        raise typer.Exit()
    options(ctx).database_url = database_url_option
    if ctx.invoked_subcommand is None:
        from leadms_tui.app import run_tui

        code = run_tui(open_noting_new(database_url(ctx)), username=user)
        if code:
            raise typer.Exit(code)


def main() -> None:
    app()
