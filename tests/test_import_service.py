"""Importing offline lists into an appeal: preview, vouched import, invitations over SMTP, the command line."""
import io
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from petitions.appeals import services as appeals
from petitions.audit.models import AuditEvent
from petitions.auth.services import register_user
from petitions.extensions import db
from petitions.signatories import importing
from petitions.signing import operations as signing
from petitions.signing.models import Level, Signature, SignatureStatus

from .conftest import LINK_RE, csrf_token, message_text, new_appeal

SEED = Path(__file__).parent / "data" / "import_seed_style.txt"
PASSWORD = "a long password"


@pytest.fixture
def appeal(app):
    owner = register_user("Owner Person", "owner@example.org", PASSWORD)
    appeal = new_appeal(owner, "Stop the reprisals", "UN", "We ask.")
    appeals.publish_appeal(appeal)
    db.session.commit()
    return appeal


def count() -> int:
    return db.session.scalar(select(func.count()).select_from(Signature))


def login(client):
    token = csrf_token(client, "/auth/login")
    client.post("/auth/login", data={"email": "owner@example.org", "password": PASSWORD, "csrf_token": token})


def test_dry_run_json_prints_rows_and_groups_and_stores_nothing(app, appeal):
    result = app.test_cli_runner().invoke(
        args=["signatories", "import", appeal.slug, str(SEED), "--dry-run", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert set(data) == {"rows", "duplicate_groups"}
    rows = {r["line"]: r for r in data["rows"]}
    assert rows[6] == {"line": 6, "name": "Elchin Sadigov", "affiliation": "Lawyer, Member of Bar Association",
                       "email": None, "problems": []}
    assert rows[21]["email"] == "cavid.nagiyev@example.org"
    assert rows[19]["name"] == "Zülfiyyə Axundova-Nəsirova"  # a hyphenated surname is not split
    assert len(rows) == 42 and data["duplicate_groups"] == [[11, 47]]
    assert count() == 0


def test_command_line_import_vouches_and_reports_bad_lines(app, appeal, tmp_path):
    listing = tmp_path / "paper-list.txt"
    listing.write_text("Rəşad Hüseynov – Journalist\n\u200bBroken Name – Lawyer\n\n"
                       "Samad Rahimli – Human rights lawyer\nSamed Rahimli- Human Rights Lawyer\n", encoding="utf-8")
    runner = app.test_cli_runner()
    refused = runner.invoke(args=["signatories", "import", appeal.slug, str(listing)])
    assert refused.exit_code != 0 and "--as" in refused.output and count() == 0
    result = runner.invoke(args=["signatories", "import", appeal.slug, str(listing), "--as", "owner@example.org",
                                 "--note", "Paper list, Tbilisi", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["created"] == 3 and [s["line"] for s in summary["skipped"]] == [2]
    assert "U+200B" in summary["skipped"][0]["reason"]
    sigs = db.session.scalars(select(Signature).order_by(Signature.id)).all()
    assert [s.full_name for s in sigs] == ["Rəşad Hüseynov", "Samad Rahimli", "Samed Rahimli"]
    assert all(s.level is Level.VOUCHED and s.status is SignatureStatus.CONFIRMED and s.source == "import"
               and s.vouch_note == "Paper list, Tbilisi" and s.vouched_by_id == appeal.owner_id for s in sigs)
    assert all(s.name_key and s.revision_id == appeal.published_revision_id for s in sigs)
    again = runner.invoke(args=["signatories", "import", appeal.slug, str(listing), "--as", "owner@example.org"])
    assert again.exit_code != 0 and "already imported" in again.output and count() == 3


def test_rows_like_existing_signatures_are_skipped(app, appeal):
    signing.sign(appeal, "Тофиг Гасымов", "Бакинский университет", "tofiq@example.org")
    db.session.commit()
    text = "Tofiq Qasımov – Baku State University\nNigar Rzayeva – Economist\n"
    preview = importing.preview(appeal, text, "lines")
    assert list(preview.existing) == [1] and preview.importable == 2
    result = importing.import_list(appeal, appeal.owner, text, "lines", "vouched")
    assert result.created == 1 and result.skipped == [(1, "looks like a signatory who already signed")]
    kept = importing.import_list(appeal, appeal.owner, text + "\n", "lines", "vouched", skip_existing=False)
    assert kept.created == 2


def test_import_with_the_same_email_as_a_signature_is_skipped(app, appeal):
    signing.sign(appeal, "Aysel Quliyeva", "", "aysel@example.org")
    db.session.commit()
    text = "Aysel Guliyeva – Doctor <AYSEL@example.org>\nLeyla Əhmədova <leyla@example.org>\n" \
           "Leyla Ahmadova <leyla@example.org>\n"
    result = importing.import_list(appeal, appeal.owner, text, "lines", "vouched", skip_existing=False)
    assert result.created == 1
    assert [line for line, _ in result.skipped] == [1, 3]


def test_web_preview_then_import(app, appeal):
    client = app.test_client()
    login(client)
    url = f"/organizer/appeals/{appeal.slug}/import"
    token = csrf_token(client, url)
    text = SEED.read_text(encoding="utf-8")
    preview = client.post(url, data={"text": text, "preview": "Preview", "csrf_token": token})
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200 and count() == 0
    assert "Preview: nothing is stored yet" in html and "42 rows read" in html
    assert "Zülfiyyə Axundova-Nəsirova" in html and "flag:single_word" in html and "11, 47" in html
    assert 'name="payload"' in html and 'checked' in html  # "skip rows like existing signatures" stays ticked
    done = client.post(url, data={"payload": text, "kind": "lines", "mode": "vouched", "skip_existing": "y",
                                  "seal": importing.seal(appeal, text, "lines"),
                                  "note": "Conference list", "submit": "Import", "csrf_token": token})
    assert done.status_code == 303
    flagged = importing.preview(appeal, text, "lines").flagged
    assert flagged >= 1 and count() == 42 - flagged  # flagged rows such as the heading "Signatories" are left out
    assert db.session.scalar(select(Signature).where(Signature.full_name == "Signatories")) is None
    event_ = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "signatories.imported"))
    assert event_.detail["created"] == 42 - flagged and event_.detail["mode"] == "vouched"
    assert "Cavid" not in json.dumps(event_.detail)  # no personal data in the log


@pytest.mark.parametrize("data, status, message", [
    ("Имя;Организация\nТофиг Гасымов;Бакинский университет\n".encode("cp1251"), 200, "Тофиг Гасымов"),
    ("\ufeffName,Affiliation\nJalə Vahidova,Lawyer\n".encode("utf-8"), 200, "Jalə Vahidova"),
    ("Name\tAffiliation\nNicat Həmidov\tStudent\n".encode("utf-16"), 200, "Nicat Həmidov"),
    (b"PK\x03\x04binary", 422, "Excel"),
    (bytes(range(256)) * 4, 422, "binary"),
])
def test_web_upload_in_other_encodings(app, appeal, data, status, message):
    client = app.test_client()
    login(client)
    url = f"/organizer/appeals/{appeal.slug}/import"
    response = client.post(url, data={"upload": (io.BytesIO(data), "list.csv"), "preview": "Preview",
                                      "csrf_token": csrf_token(client, url)}, content_type="multipart/form-data")
    assert response.status_code == status and message in response.get_data(as_text=True)
    assert count() == 0


def test_invitations_go_out_over_smtp_and_confirm(smtp_app):
    owner = register_user("Owner Person", "owner@example.org", PASSWORD)
    appeal = new_appeal(owner, "Invitations", "", "Body")
    appeals.publish_appeal(appeal)
    db.session.commit()
    text = "Fidan Səfərova – Teacher <fidan@example.org>\nNo Address Person – Driver\n"
    result = importing.import_list(appeal, owner, text, "lines", "invite")
    db.session.commit()
    assert (result.created, result.invited) == (1, 1) and result.skipped[0][0] == 2
    [msg] = smtp_app.smtp_sink.wait_for(1)
    assert msg["To"] == "fidan@example.org" and "/withdraw/" in message_text(msg)
    sig = db.session.scalar(select(Signature))
    assert sig.status is SignatureStatus.PENDING and sig.source == "import"
    token = LINK_RE.search(message_text(msg)).group(0).split("?")[0].rsplit("/", 1)[1]
    signing.confirm(token)
    assert sig.level is Level.EMAIL and sig.status is SignatureStatus.CONFIRMED


def test_long_import_goes_in_batches(app, appeal, monkeypatch):
    monkeypatch.setattr(importing, "BATCH", 7)
    # Some rows with an e-mail, some without: the batch must still go out as one statement.
    lines = "\n".join(f"Person{chr(0x430 + i % 32)}{i} Tester{i} – Volunteer" + (f" <p{i}@example.org>" if i % 3 else "")
                      for i in range(50))
    inserts = []
    from sqlalchemy import event

    def spy(conn, cursor, statement, parameters, context, executemany):
        if statement.startswith("INSERT INTO signatures"):
            inserts.append(len(parameters) if executemany else 1)

    event.listen(db.engine, "before_cursor_execute", spy)
    try:
        result = importing.import_list(appeal, appeal.owner, lines, "lines", "vouched", skip_existing=False,
                                       include_flagged=True)  # these made-up names are flagged as mixed script
    finally:
        event.remove(db.engine, "before_cursor_execute", spy)
    assert result.created == 50 and count() == 50
    assert inserts == [7] * 7 + [1], inserts


def test_command_line_refuses_unreadable_files_and_drafts(app, appeal, tmp_path):
    runner = app.test_cli_runner()
    binary = tmp_path / "list.csv"
    binary.write_bytes(bytes(range(256)) * 8)
    result = runner.invoke(args=["signatories", "import", appeal.slug, str(binary), "--dry-run", "--json"])
    assert result.exit_code != 0 and "binary data" in result.output
    draft = new_appeal(appeal.owner, "Draft letter", "", "Body")
    db.session.commit()
    listing = tmp_path / "list.txt"
    listing.write_text("Aysel Quliyeva – Doctor\n", encoding="utf-8")
    refused = runner.invoke(args=["signatories", "import", draft.slug, str(listing), "--as", "owner@example.org"])
    assert refused.exit_code != 0 and "Publish the appeal first" in refused.output
    assert count() == 0
