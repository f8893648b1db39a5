"""`flask --app petitions pdf ...`: signing keys, rendering, the job worker, pruning."""
import click
from flask import current_app
from sqlalchemy import select

from petitions.appeals.models import Appeal
from petitions.extensions import db
from petitions.pdf import jobs
from petitions.pdf.engine import pades as signing
from petitions.pdf.engine.files import write_atomically
from petitions.translations.services import published_languages


@click.group()
def pdf():
    """Final PDFs: signing key, render, background worker, pruning of old versions."""


@pdf.command()
@click.option("--force", is_flag=True, help="Replace an existing key (PDFs signed before stop verifying).")
def keygen(force: bool):
    """Create the self-signed key and certificate that sign the PDFs, unless they exist."""
    created = signing.generate_self_signed(jobs.keys_dir(), overwrite=force)
    click.echo(("Created" if created else "Kept the existing") + f" PDF signing key in {jobs.keys_dir()}")


@pdf.command("import-key")
@click.argument("pkcs12", type=click.File("rb"))
@click.option("--passphrase", prompt=True, hide_input=True, default="", help="Passphrase of the PKCS#12 file.")
def import_key(pkcs12, passphrase: str):
    """Sign PDFs with the key and certificate of a PKCS#12 (.p12/.pfx) file."""
    try:
        subject = signing.import_pkcs12(jobs.keys_dir(), pkcs12.read(), passphrase.encode() or None)
    except signing.SigningKeyError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"PDFs are now signed as {subject}.")


@pdf.command()
@click.argument("slug")
@click.option("-o", "--output", "output", required=True, type=click.Path(dir_okay=False, writable=True),
              help="Where to write the PDF.")
@click.option("--audience", type=click.Choice(jobs.AUDIENCES), default="addressees")
@click.option("--language", default=None, help="A published language version (default: the original).")
@click.option("--combined", is_flag=True, help="The original first, every published translation as an annex.")
@click.option("--archival", is_flag=True, help="The PDF/A-3b copy with the list attached as CSV.")
def render(slug: str, output: str, audience: str, language: str | None, combined: bool, archival: bool):
    """Write the final, signed PDF of an appeal: the stored, verifiable copy the web serves."""
    appeal = _appeal(slug)
    if language is not None and language not in published_languages(appeal):
        raise click.ClickException(f"{slug!r} has no published version in {language!r}; "
                                   f"published: {', '.join(published_languages(appeal))}.")
    try:
        record = jobs.render_now(appeal, audience, jobs.variant_for(language, combined, archival))
    except jobs.RenderFailed as exc:
        raise click.ClickException(str(exc)) from None
    with open(jobs.file_path(record), "rb") as fh:
        write_atomically(output, fh.read())
    click.echo(f"Wrote {output} (version {record.version}, verify at {jobs.public_verify_url(record.id)})")


@pdf.command()
@click.option("--once", is_flag=True, help="Run the queued jobs, then stop.")
def work(once: bool):
    """Run queued PDF jobs (for PDF_EXECUTOR = "worker"; `flask jobs work` runs them too)."""
    ran = jobs.work(once=once, poll_seconds=float(current_app.config["PDF_WORKER_POLL"]))
    click.echo(f"Ran {ran} PDF job(s).")


@pdf.command()
@click.option("--keep", type=click.IntRange(min=1), default=None,
              help="Versions of each kind to keep (default: PDF_KEEP_VERSIONS).")
@click.option("--slug", default=None, help="Only this appeal.")
def prune(keep: int | None, slug: str | None):
    """Delete the files of older PDF versions, keeping the newest of each kind (and the delivered one)."""
    appeal = _appeal(slug) if slug is not None else None
    removed = jobs.prune(appeal, keep=keep)
    db.session.commit()
    click.echo(f"Deleted the files of {removed} older PDF version(s).")
    if appeal is None:
        click.echo(f"Deleted {jobs.prune_chunks()} cached list chunk(s) no render used for "
                   f"{current_app.config['PDF_CHUNK_KEEP_DAYS']} days.")


def _appeal(slug: str) -> Appeal:
    appeal = db.session.scalar(select(Appeal).where(Appeal.slug == slug))
    if appeal is None:
        raise click.ClickException(f"No appeal with the slug {slug!r}.")
    return appeal
