"""`flask --app petitions signatories …`: import offline lists, export, scan for duplicates."""
from __future__ import annotations

import json
import os
import sys

import click
from sqlalchemy import select

from petitions.privacy import accesslog
from petitions.appeals.models import Appeal
from petitions.auth.models import User
from petitions.extensions import db
from petitions.members.access import can
from petitions.signatories import export as exporting
from petitions.signatories import importing
from petitions.signatories.dedupe import find_duplicate_groups
from petitions.signatories.parsing import ImportFormatError
from petitions.signatories.queue import scan_duplicates


@click.group("signatories")
def signatories():
    """Import, export and check an appeal's signatories."""


def _appeal(slug: str) -> Appeal:
    appeal = db.session.scalar(select(Appeal).where(Appeal.slug == slug))
    if appeal is None:
        raise click.ClickException(f"No appeal with the slug {slug!r}.")
    return appeal


def _organizer(email: str | None, appeal: Appeal, action: str) -> User | None:
    if email is None:
        return None
    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise click.ClickException(f"No organizer account with the e-mail {email!r}.")
    if not can(appeal, user, action):
        raise click.ClickException(f"{email} may not {action} signatories of {appeal.slug!r}.")
    return user


@signatories.command("import")
@click.argument("slug")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@click.option("--dry-run", is_flag=True, help="Parse and check only; store nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (rows and duplicate groups).")
@click.option("--mode", type=click.Choice(importing.MODES), default="vouched", show_default=True,
              help="vouched: the rows count at once; invite: rows with an e-mail get a link to confirm.")
@click.option("--as", "organizer", metavar="EMAIL", help="The organizer who vouches (required to import).")
@click.option("--note", default="", help="Where the list comes from; stored with each vouched signature.")
@click.option("--keep-existing-duplicates", is_flag=True, help="Import rows that look like people who signed.")
@click.option("--force", is_flag=True, help="Import even if this very list was imported before.")
@click.option("--include-flagged", is_flag=True,
              help="Import rows whose name does not look like a person's (web address, digits…); left out by default.")
def import_command(slug, file, dry_run, as_json, mode, organizer, note, keep_existing_duplicates, force,
                   include_flagged):
    """Import an offline list (free-form lines or CSV) into an appeal."""
    appeal = _appeal(slug)
    try:
        with click.open_file(file, "rb") as fh:
            text = importing.text_of(fh.read())
    except ImportFormatError as exc:
        raise click.ClickException(str(exc)) from None
    kind = importing.kind_for(file)
    if dry_run:
        _dry_run(appeal, text, kind, as_json)
        return
    user = _organizer(organizer, appeal, "moderate")
    if user is None:
        raise click.ClickException("Say who imports with --as ORGANIZER_EMAIL (their name goes on the vouch).")
    try:
        result = importing.import_list(appeal, user, text, kind, mode, note=note, force=force,
                                       skip_existing=not keep_existing_duplicates, commit=db.session.commit,
                                       include_flagged=include_flagged)
    except (importing.ImportRefused, ImportFormatError) as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    summary = {"created": result.created, "invited": result.invited,
               "skipped": [{"line": line, "reason": reason} for line, reason in result.skipped]}
    if as_json:
        click.echo(json.dumps(summary, ensure_ascii=False))
    else:
        click.echo(f"Imported {result.created} signatories into {slug}; invitations sent: {result.invited}.")
        for line, reason in result.skipped:
            click.echo(f"  line {line} skipped: {reason}")


def _dry_run(appeal: Appeal, text: str, kind: str, as_json: bool) -> None:
    """Print the parsed rows and duplicate groups, one row at a time (long lists stay small in memory)."""
    named: list[tuple[int, str, str]] = []
    out = sys.stdout
    if as_json:
        out.write('{"rows": [')
    for n, row in enumerate(importing.rows_of(text, kind)):
        if row.name:
            named.append((row.line, row.name, row.affiliation))
        if as_json:
            out.write(("" if n == 0 else ", ") + json.dumps(
                {"line": row.line, "name": row.name, "affiliation": row.affiliation, "email": row.email,
                 "problems": row.problems}, ensure_ascii=False))
        else:
            problems = f"  [{'; '.join(row.problems)}]" if row.problems else ""
            if importing.is_flagged(row):
                problems += "  (left out unless --include-flagged)"
            out.write(f"{row.line:>6}  {row.name} | {row.affiliation} | {row.email or ''}{problems}\n")
    groups = [[named[i][0] for i in g] for g in find_duplicate_groups([(nm, af) for _, nm, af in named])]
    if as_json:
        out.write('], "duplicate_groups": ' + json.dumps(groups) + "}\n")
    else:
        for group in groups:
            out.write(f"likely the same person: lines {', '.join(map(str, group))}\n")
        existing = importing.matches_with_existing(appeal, named)
        for line, sigs in sorted(existing.items()):
            out.write(f"line {line} looks like an existing signature: "
                      f"{'; '.join(f'#{sid} {disp}' for sid, disp in sigs)}\n")
    out.flush()


@signatories.command("export")
@click.argument("slug")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, writable=True),
              help="Where to write the CSV.")
def export_command(slug, output):
    """Write the signatories with their levels and signed revision as CSV (recorded in the audit log)."""
    appeal = _appeal(slug)
    tmp = f"{output}.tmp-{os.getpid()}"
    rows = 0
    with open(tmp, "w", encoding="utf-8", newline="") as fh:
        for chunk in exporting.csv_chunks(appeal):
            fh.write(chunk)
        rows = exporting.row_count(appeal)
    os.replace(tmp, output)
    accesslog.signatories_exported(appeal, actor=None, rows=rows, via="cli", file=os.path.basename(output))
    db.session.commit()
    click.echo(f"Wrote {rows} signatories to {output}")


@signatories.command("dedupe")
@click.argument("slug")
def dedupe_command(slug):
    """Look for likely-same people among an appeal's signatures and store them for review."""
    appeal = _appeal(slug)
    found = scan_duplicates(appeal, None)
    db.session.commit()
    click.echo(f"New candidate pairs: {found}")
