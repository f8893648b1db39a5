"""The import preview decides what is stored: flagged rows are left out unless ticked, rows can be edited,
and the import is exactly the previewed list with the organizer's choices."""
import json
from html.parser import HTMLParser

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from petitions.appeals import services as appeals
from petitions.auth.services import register_user
from petitions.extensions import db
from petitions.signatories import importing
from petitions.signing import operations as signing
from petitions.signing.models import Signature

from .conftest import csrf_token, new_appeal

PASSWORD = "a long password"
SPAM = "Anna Müller – Journalist\nhttp://spam.example.com\nIlham Aliyev 12345\nLeyla Yunus – Historian\n"


@pytest.fixture
def appeal(app):
    owner = register_user("Owner Person", "owner@example.org", PASSWORD)
    appeal = new_appeal(owner, "Stop the reprisals", "UN", "We ask.")
    appeals.publish_appeal(appeal)
    db.session.commit()
    return appeal


@pytest.fixture
def organizer(app, appeal):
    client = app.test_client()
    client.post("/auth/login", data={"email": "owner@example.org", "password": PASSWORD,
                                     "csrf_token": csrf_token(client, "/auth/login")})
    return client


class _Form(HTMLParser):
    """Collect what a browser would send for the preview form: inputs, ticked boxes, the checked radio."""

    def __init__(self):
        super().__init__()
        self.fields: list[tuple[str, str]] = []
        self.boxes: dict[str, bool] = {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag != "input" or "name" not in a:
            return
        kind = a.get("type", "text")
        if kind in ("checkbox", "radio"):
            if a["name"] == "include":
                self.boxes[a["value"]] = "checked" in a
            if "checked" in a:
                self.fields.append((a["name"], a.get("value", "y")))
        elif kind not in ("file", "submit"):
            self.fields.append((a["name"], a.get("value") or ""))


def preview_form(client, url, text):
    response = client.post(url, data={"text": text, "preview": "Preview", "csrf_token": csrf_token(client, url)})
    assert response.status_code == 200
    form = _Form()
    form.feed(response.get_data(as_text=True))
    return response.get_data(as_text=True), form


def submit(client, url, fields, **changes):
    """Send the form as a browser would, with some boxes ticked or unticked and some fields retyped."""
    data = [(k, v) for k, v in fields if k != "include" and k not in changes]
    data += [(k, v) for k, v in fields if k == "include" and v not in changes.get("untick", ())]
    data += [("include", v) for v in changes.get("tick", ())]
    data += [(k, v) for k, v in changes.items() if k not in ("tick", "untick")]
    return client.post(url, data=MultiDict(data + [("submit", "Import")]))


def names() -> list[str]:
    return sorted(db.session.scalars(select(Signature.full_name)))


def test_flagged_rows_start_unticked_and_are_not_imported(appeal, organizer):
    url = f"/organizer/appeals/{appeal.slug}/import"
    html, form = preview_form(organizer, url, SPAM)
    assert form.boxes == {"1": True, "2": False, "3": False, "4": True}
    assert "left out unless you tick" in html
    done = submit(organizer, url, form.fields)
    assert done.status_code == 303, done.get_data(as_text=True)
    assert names() == ["Anna Müller", "Leyla Yunus"]
    public = organizer.get(f"/a/{appeal.slug}").get_data(as_text=True)
    api = organizer.get(f"/api/v1/appeals/{appeal.slug}/signatures").get_data(as_text=True)
    for shown in (public, api):
        assert "spam.example.com" not in shown and "12345" not in shown and "Anna Müller" in shown


def test_rows_can_be_ticked_left_out_and_edited(appeal, organizer):
    url = f"/organizer/appeals/{appeal.slug}/import"
    _html, form = preview_form(organizer, url, SPAM)
    done = submit(organizer, url, form.fields, tick=["3"], untick=["4"],
                  **{"name-3": "Ilham Aliyev", "affiliation-3": "Economist", "name-1": "Anna Müller-Lang"})
    assert done.status_code == 303, done.get_data(as_text=True)
    assert names() == ["Anna Müller-Lang", "Ilham Aliyev"]
    edited = db.session.scalar(select(Signature).where(Signature.full_name == "Ilham Aliyev"))
    assert edited.affiliation == "Economist" and edited.flags == []


def test_a_ticked_flagged_row_is_imported_as_shown(appeal, organizer):
    url = f"/organizer/appeals/{appeal.slug}/import"
    _html, form = preview_form(organizer, url, SPAM)
    assert submit(organizer, url, form.fields, tick=["2"]).status_code == 303
    assert names() == ["Anna Müller", "Leyla Yunus", "http://spam.example.com"]


def test_a_changed_payload_is_refused_and_nothing_is_stored(appeal, organizer):
    url = f"/organizer/appeals/{appeal.slug}/import"
    _html, form = preview_form(organizer, url, SPAM)
    # Line 2 was unticked for "http://spam…"; a payload with another line 2 must not carry that choice over.
    tampered = [(k, "Casino Bonus 777\nAnna Müller – Journalist\n" if k == "payload" else v) for k, v in form.fields]
    response = submit(organizer, url, tampered)
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "not the one that was previewed" in page
    assert names() == []
    # Another list's seal does not fit either: the seal binds this appeal, kind and text.
    forged = [(k, importing.digest("x") if k == "seal" else v) for k, v in form.fields]
    assert submit(organizer, url, forged).status_code == 422 and names() == []
    # Leaving out the per-row fields does not smuggle flagged rows in: they stay out unless ticked.
    bare = [(k, v) for k, v in form.fields if k in ("csrf_token", "payload", "kind", "seal", "mode")]
    assert submit(organizer, url, bare).status_code == 303
    assert names() == ["Anna Müller", "Leyla Yunus"]


def test_an_invalid_edit_is_refused_and_the_choices_stay_on_the_page(appeal, organizer):
    url = f"/organizer/appeals/{appeal.slug}/import"
    _html, form = preview_form(organizer, url, SPAM)
    response = submit(organizer, url, form.fields, tick=["3"], **{"name-3": "", "name-4": "Leyla Yunus-Typed"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "Line 3 cannot be imported" in page
    again = _Form()
    again.feed(page)
    assert again.boxes["3"] is True and ("name-4", "Leyla Yunus-Typed") in again.fields
    assert names() == []


def test_duplicates_of_existing_signatures_are_shown_beside_the_row_and_start_unticked(appeal, organizer):
    existing = signing.sign(appeal, "Тофиг Гасымов", "Бакинский университет", "tofiq@example.org").signature
    db.session.commit()
    url = f"/organizer/appeals/{appeal.slug}/import"
    html, form = preview_form(organizer, url, "Tofiq Qasımov – Baku State University\nNigar Rzayeva – Economist\n")
    assert form.boxes == {"1": False, "2": True}
    row = html[html.index('id="row-1"'):html.index('id="row-2"')]
    assert f"already signed: #{existing.id}" in row
    assert submit(organizer, url, form.fields).status_code == 303
    assert names() == ["Nigar Rzayeva", "Тофиг Гасымов"]


def test_the_service_and_the_command_line_leave_flagged_rows_out_by_default(app, appeal, tmp_path):
    result = importing.import_list(appeal, appeal.owner, SPAM, "lines", "vouched")
    assert result.created == 2 and [line for line, _ in result.skipped] == [2, 3]
    assert "does not look like a person's name (url)" in result.skipped[0][1]
    listing = tmp_path / "list.txt"
    listing.write_text("Rəşad Hüseynov – Journalist\nwww.buy-followers.example\n", encoding="utf-8")
    runner = app.test_cli_runner()
    out = runner.invoke(args=["signatories", "import", appeal.slug, str(listing), "--as", "owner@example.org",
                              "--json"])
    assert out.exit_code == 0, out.output
    assert [s["line"] for s in json.loads(out.output)["skipped"]] == [2]
    listing.write_text("Samad Rahimli – Lawyer\nhttp://spam.example.com\n", encoding="utf-8")
    out = runner.invoke(args=["signatories", "import", appeal.slug, str(listing), "--as", "owner@example.org",
                              "--include-flagged"])
    assert out.exit_code == 0, out.output
    assert "http://spam.example.com" in names()
    assert db.session.scalar(select(func.count()).select_from(Signature)) == 5


@pytest.mark.e2e
def test_the_preview_works_in_chromium_without_javascript(make_app):
    import os

    from .browser import chromium, live_server

    app = make_app(MAIL_TRANSPORT="outbox")
    with app.app_context():
        owner = register_user("Owner Person", "owner@example.org", PASSWORD)
        appeal = new_appeal(owner, "Stop the reprisals", "UN", "We ask.")
        appeals.publish_appeal(appeal)
        db.session.commit()
        importing.import_list(appeal, owner, "Leyla Yunus – Historian, Institute for Peace and Democracy\n",
                              "lines", "vouched")
        db.session.commit()
        slug = appeal.slug
        db.session.remove()
    shots = os.environ.get("IMPORT_SCREENSHOTS")  # a folder to keep the picture in, for a human to look at
    with live_server(app) as base, chromium(java_script_enabled=False) as context:
        page = context.new_page()
        page.set_viewport_size({"width": 1280, "height": 900})
        page.goto(f"{base}/auth/login")
        page.fill("#email", "owner@example.org")
        page.fill("#password", PASSWORD)
        page.click("#submit")
        page.goto(f"{base}/organizer/appeals/{slug}/import")
        page.fill("#text", SPAM.replace("Leyla Yunus – Historian", "Leyla Yunus – Historian, Institute for Peace"))
        with page.expect_navigation():
            page.click("button:has-text('Preview')")
        assert [page.is_checked(f"#include-{n}") for n in (1, 2, 3, 4)] == [True, False, False, False]
        assert "already signed: #1" in page.inner_text("#row-4")
        if shots:
            page.screenshot(path=f"{shots}/import-preview.png", full_page=True)
        page.check("#include-3")
        page.fill("input[name=name-3]", "Ilham Aliyev")
        page.click("button:has-text('Import')")
        assert "Imported 2 signatories" in page.inner_text(".flash")
    with app.app_context():
        assert names() == ["Anna Müller", "Ilham Aliyev", "Leyla Yunus"]
        db.engine.dispose()


def test_the_dry_run_says_which_rows_would_be_left_out(app, appeal, tmp_path):
    listing = tmp_path / "list.txt"
    listing.write_text("Rəşad Hüseynov – Journalist\nwww.buy-followers.example\n", encoding="utf-8")
    out = app.test_cli_runner().invoke(args=["signatories", "import", appeal.slug, str(listing), "--dry-run"])
    assert out.exit_code == 0, out.output
    first, second = out.output.splitlines()[:2]
    assert "left out" not in first and "left out unless --include-flagged" in second
