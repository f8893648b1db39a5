"""Threat: erasure and withdrawal that leave copies behind (issue 11, point 6), and the public PDF
rendered and kept on anonymous requests (issue 11, its public-PDF part).

After a signer erases their data or withdraws, their name is in no stored PDF version, no cached
list chunk, no dev outbox message, no organizer page, no API answer, no CSV and not in the bytes of
the SQLite file. Visitors never start a render; stored versions are pruned to PDF_KEEP_VERSIONS.
"""
import email
import email.policy
import os
import re
import zlib

import pytest
from flask import g
from pypdf import PdfReader
from sqlalchemy import select

from petitions.appeals.models import AppealStatus
from petitions.extensions import db
from petitions.mail import outbox
from petitions.pdf.engine import chunks
from petitions.pdf import jobs
from petitions.pdf.models import PdfDocument, PdfJob
from petitions.signing.models import Signature, SignatureStatus

from ..conftest import csrf_token as page_csrf_token
from ..test_privacy import db_bytes, variants
from .test_exposure import body_text, crawl, organizer_starts

NAME = "Zəfər Quixbury"
AFFILIATION = "Bureau Of Hidden Rivers"
EMAIL = "zafar.quixbury@example.org"
OTHER = "Tamar Stayhere"
LINK_RE = re.compile(r"https?://\S+?(/(?:confirm|withdraw|privacy/my-data)/\S+)")


@pytest.fixture
def app(make_app):
    """Mail goes to the dev outbox; PDFs are rendered in the request; scheduled renders wait for a worker."""
    app = make_app(MAIL_TRANSPORT="outbox", PDF_EXECUTOR="inline", PDF_RENDER_DEBOUNCE_SECONDS=0)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def csrf_token(client, url: str) -> str:
    """Return the CSRF token of a page for this client.

    The tests share one app context, and Flask-WTF caches the token of the last request in `g`;
    several clients (signer, owner) take turns here, so each starts from its own session.
    """
    g.pop("csrf_token", None)
    return page_csrf_token(client, url)


def organizer(client_as, user):
    g.pop("csrf_token", None)
    return client_as(user)


def outbox_messages() -> list[tuple[int, email.message.EmailMessage]]:
    return [(m.row.id, m.message) for m in reversed(outbox.stored()) if m.message is not None]


def message_text(msg) -> str:
    """Every header and text part, decoded (names in other scripts are encoded on disk)."""
    parts = [f"{k}: {v}" for k, v in msg.items()]
    parts += [p.get_content() for p in msg.walk() if p.get_content_maintype() == "text"]
    return "\n".join(parts)


def last_link(kind: str, to: str = "") -> str:
    for _name, msg in reversed(outbox_messages()):
        if to and to not in str(msg["To"]):
            continue
        for path in LINK_RE.findall(message_text(msg)):
            if path.startswith(f"/{kind}/"):
                return path
    raise AssertionError(f"no {kind} link in the outbox")


def sign_on_the_web(client, appeal, name=NAME, email_address=EMAIL, visibility="public", affiliation=AFFILIATION):
    token = csrf_token(client, f"/a/{appeal.slug}/sign")
    response = client.post(f"/a/{appeal.slug}/sign", data={
        "full_name": name, "affiliation": affiliation, "country": "Azerbaijan", "email": email_address,
        "visibility": visibility, "consent": "y", "csrf_token": token})
    assert response.status_code == 303, response.status_code
    path = last_link("confirm")
    assert client.post(path, data={"csrf_token": csrf_token(client, path)}).status_code == 200
    return db.session.scalars(select(Signature).where(Signature.full_name == name)).one()


def render(appeal, audience, variant="standard"):
    job = jobs.request_render(appeal, audience, variant)
    db.session.commit()
    job = jobs.run_job(job.id)
    assert job.status.value == "done", job.error
    return db.session.get(PdfDocument, job.document_id)


def pdf_file_texts() -> dict[str, str]:
    """Return the text of every stored PDF file (all versions, all appeals)."""
    out = {}
    for folder, _dirs, files in os.walk(jobs.files_dir()):
        for name in files:
            path = os.path.join(folder, name)
            out[path] = "\n".join(p.extract_text() for p in PdfReader(path).pages)
    return out


def chunk_texts() -> dict[str, str]:
    """Return the text each cached list chunk draws (glyph ids mapped back through its glyph table)."""
    out = {}
    cache = jobs.cache_dir()
    for name in os.listdir(cache) if os.path.isdir(cache) else []:
        if not name.endswith(".chunk"):
            continue
        chunk = chunks.load(cache, name.removesuffix(".chunk"))
        assert chunk is not None, name
        text, face = [], None
        for page in chunk.pages:
            stream = zlib.decompress(page).decode("latin-1")
            for m in re.finditer(r"/SF(\d+) [\d.]+ Tf|<([0-9A-F]+)>", stream):
                if m.group(1):
                    face = int(m.group(1))
                else:
                    hexes = m.group(2)
                    table = chunk.glyphs.get(face, {})
                    text += [table.get(int(hexes[i:i + 4], 16), "") for i in range(0, len(hexes), 4)]
        out[name] = "".join(text)
    return out


def squeeze(text: str) -> str:
    return "".join(text.split())


def everything_stored_and_shown(app, client, owner_client, appeal) -> dict[str, str]:
    """Every place the name could still be: files, chunks, outbox, organizer pages, API, CSVs, public pages."""
    places = {f"pdf {k}": v for k, v in pdf_file_texts().items()}
    places.update({f"chunk {k}": squeeze(v) for k, v in chunk_texts().items()})
    places.update({f"outbox {n}": message_text(m) for n, m in outbox_messages()})
    places.update({f"raw outbox {n}": m.as_string() for n, m in outbox_messages()})
    places.update(crawl(owner_client, organizer_starts(appeal.slug)))
    places["api"] = client.get(f"/api/v1/appeals/{appeal.slug}/signatures").get_data(as_text=True)
    places["public page"] = client.get(f"/a/{appeal.slug}").get_data(as_text=True)
    places["public pdf"] = body_text(client.get(f"/a/{appeal.slug}/public.pdf"))
    return places


def assert_gone(places: dict[str, str], *secrets: str):
    for where, text in places.items():
        for secret in secrets:
            assert secret not in text and squeeze(secret) not in text, (where, secret)
        assert EMAIL not in text.lower(), where


def prepare(world, client):
    """The signer and another signer are listed in every kind of stored PDF and in the chunk cache."""
    appeal = world.appeal
    signer = sign_on_the_web(client, appeal)
    sign_on_the_web(client, appeal, name=OTHER, email_address="tamar@example.org", affiliation="Open Harbour Union")
    for audience, variant in (("addressees", "standard"), ("public", "standard"), ("addressees", "archival")):
        render(appeal, audience, variant)
    # The checks can see the name where it is stored.
    assert any(NAME in t for t in pdf_file_texts().values())
    assert any(squeeze(NAME) in squeeze(t) for t in chunk_texts().values())
    assert any(EMAIL in message_text(m) for _n, m in outbox_messages())
    return appeal, signer


def test_erasure_reaches_every_stored_copy(app, world, client, client_as):
    appeal, signer = prepare(world, client)
    owner = organizer(client_as, world.owner)
    assert NAME in owner.get(f"/organizer/appeals/{appeal.slug}/review").get_data(as_text=True)

    token = csrf_token(client, "/privacy/my-data")
    assert client.post("/privacy/my-data", data={"email": EMAIL, "csrf_token": token}).status_code == 200
    link = last_link("privacy/my-data")
    path = f"{link}/{signer.id}/erase"
    done = client.post(path, data={"understood": "y", "csrf_token": csrf_token(client, path)})
    assert done.status_code == 200 and "Erased" in done.get_data(as_text=True)
    db.session.expire_all()

    places = everything_stored_and_shown(app, client, owner, appeal)
    assert_gone(places, NAME, AFFILIATION)
    assert any(OTHER in t for k, t in places.items() if k.startswith("/organizer"))  # others stay
    data = db_bytes(app)
    for needle in variants(NAME) + variants(AFFILIATION):
        assert needle not in data, needle

    # The versions are marked, the organizers told why (without the name), and a fresh public PDF is on its way.
    removed = list(db.session.scalars(select(PdfDocument).where(PdfDocument.removed_reason == "erased")))
    assert len(removed) == 3
    status = owner.get(f"/organizer/appeals/{appeal.slug}/pdf/status").get_data(as_text=True)
    assert "a signer erased their data" in status and NAME not in status
    waiting = client.get(f"/a/{appeal.slug}/public.pdf")
    assert waiting.status_code == 503 and waiting.headers["Retry-After"]
    assert jobs.work(once=True) == 1
    fresh = client.get(f"/a/{appeal.slug}/public.pdf")
    assert fresh.status_code == 200 and OTHER in body_text(fresh) and NAME not in body_text(fresh)


def test_a_render_under_way_during_an_erasure_keeps_nothing(app, world, client):
    from petitions.privacy import selfservice

    appeal, signer = prepare(world, client)
    job = jobs.request_render(appeal, "public")
    db.session.commit()
    assert jobs._claim(job.id)  # a runner took the job and is reading the list, with the signer on it
    selfservice.erase(signer)
    db.session.commit()
    done = jobs.run_claimed(job.id)  # ...and finishes after the erasure
    assert done.status.value == "failed" and "not kept" in done.error_text
    assert db.session.scalar(select(PdfDocument).where(PdfDocument.removed_at.is_(None))) is None
    assert pdf_file_texts() == {}
    assert db.session.scalar(select(PdfJob).where(PdfJob.status == "queued", PdfJob.audience == "public"))


def test_withdrawal_keeps_a_tombstone_without_the_person(app, world, client, client_as):
    appeal, signer = prepare(world, client)
    owner = organizer(client_as, world.owner)
    path = last_link("withdraw", to=EMAIL)
    response = client.post(path, data={"csrf_token": csrf_token(client, path)})
    assert response.status_code == 200
    db.session.expire_all()

    tombstone = db.session.get(Signature, signer.id)
    assert tombstone.status is SignatureStatus.WITHDRAWN and tombstone.withdrawn_at is not None
    assert (tombstone.full_name, tombstone.affiliation, tombstone.country, tombstone.name_key) == ("", "", "", "")
    assert tombstone.email_encrypted is None and tombstone.email_hash is None
    places = everything_stored_and_shown(app, client, owner, appeal)
    assert f"Withdrawn signer #{signer.id}" in places[f"/organizer/appeals/{appeal.slug}/review?status=withdrawn"]
    assert_gone(places, NAME, AFFILIATION)
    data = db_bytes(app)
    for needle in variants(NAME) + variants(AFFILIATION):
        assert needle not in data, needle


def test_erasure_after_delivery_says_what_remains(app, world, client):
    appeal, signer = prepare(world, client)
    appeal.close()
    appeal.mark_delivered()
    db.session.commit()
    assert appeal.status is AppealStatus.DELIVERED
    token = csrf_token(client, "/privacy/my-data")
    client.post("/privacy/my-data", data={"email": EMAIL, "csrf_token": token})
    path = f"{last_link('privacy/my-data')}/{signer.id}/erase"
    asked = client.get(path).get_data(as_text=True)
    assert "delivered" in asked
    done = client.post(path, data={"understood": "y", "csrf_token": csrf_token(client, path)}).get_data(as_text=True)
    # Honest: the addressees' copies stay, ours are gone, only the fingerprint that verifies theirs remains.
    assert "cannot be recalled" in done and "stored copies of it are deleted" in done and "fingerprint" in done
    assert not any(NAME in t for t in pdf_file_texts().values())
    assert db.session.scalars(select(PdfDocument)).all()  # the rows stay for /verify


def test_visitors_never_start_a_render(app, world, client):
    appeal = world.appeal
    for n in range(2):
        sign_on_the_web(client, appeal, name=f"Signer Number{n}", email_address=f"s{n}@example.org", affiliation="")
    app.config.update(PDF_EXECUTOR="thread", PDF_SYNC_MAX=1_000_000)
    for _ in range(3):
        response = client.get(f"/a/{appeal.slug}/public.pdf")
        assert response.status_code == 404 and "not available yet" in response.get_data(as_text=True)
    assert db.session.scalar(select(PdfJob).where(PdfJob.appeal_id == appeal.id)) is None
    assert db.session.scalar(select(PdfDocument).where(PdfDocument.appeal_id == appeal.id)) is None

    # Once the organizers made it, visitors get the stored copy even when it is out of date, and a
    # confirmation schedules one debounced render however many confirmations follow.
    first = render(appeal, "public")
    app.config.update(PDF_EXECUTOR="worker", PDF_RENDER_DEBOUNCE_SECONDS=3600)
    for n in range(2, 5):
        sign_on_the_web(client, appeal, name=f"Signer Number{n}", email_address=f"s{n}@example.org", affiliation="")
    served = client.get(f"/a/{appeal.slug}/public.pdf")
    assert served.status_code == 200 and served.headers["ETag"].strip('"') == first.sha256
    queued = list(db.session.scalars(select(PdfJob).where(PdfJob.appeal_id == appeal.id,
                                                          PdfJob.status == "queued")))
    assert len(queued) == 1 and queued[0].not_before is not None
    assert jobs.work(once=True) == 0  # it waits for the debounce to pass


def test_pruning_keeps_the_last_versions(app, world, client):
    appeal = world.appeal
    app.config.update(PDF_KEEP_VERSIONS=2)
    sign_on_the_web(client, appeal, name="Only Signer", email_address="only@example.org", affiliation="")
    made = [render(appeal, "public") for _ in range(4)] + [render(appeal, "addressees")]
    public = [d for d in made if d.audience == "public"]
    db.session.expire_all()
    kept = {d.id for d in db.session.scalars(select(PdfDocument).where(PdfDocument.removed_at.is_(None)))}
    assert kept == {public[-1].id, public[-2].id, made[-1].id}
    on_disk = {f for _d, _s, files in os.walk(jobs.files_dir()) for f in files}
    assert on_disk == {public[-1].filename, public[-2].filename, made[-1].filename}

    result = app.test_cli_runner().invoke(args=["pdf", "prune", "--keep", "1"])
    assert result.exit_code == 0, result.output
    on_disk = {f for _d, _s, files in os.walk(jobs.files_dir()) for f in files}
    assert on_disk == {public[-1].filename, made[-1].filename}
    assert client.get(f"/a/{appeal.slug}/public.pdf").headers["ETag"].strip('"') == public[-1].sha256

    # The version the addressees received stays, however many come after it.
    delivered = render(appeal, "addressees")
    appeal.close()
    appeal.mark_delivered()
    db.session.commit()
    later = [render(appeal, "addressees") for _ in range(2)]
    on_disk = {f for _d, _s, files in os.walk(jobs.files_dir()) for f in files}
    assert {delivered.filename, later[-1].filename} <= on_disk and made[-1].filename not in on_disk
