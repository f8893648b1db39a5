"""The whole chain over real SMTP: sign over HTTP, read the mail, confirm, read the PDF back."""
import io

import pytest
from pypdf import PdfReader

from petitions.auth.services import register_user
from petitions.extensions import db
from petitions.signing.models import Signature, SignatureStatus

from .conftest import LINK_RE, csrf_token, message_text, new_appeal

pytestmark = pytest.mark.e2e


def test_sign_confirm_by_mail_and_find_the_name_in_the_pdf(smtp_app):
    owner = register_user("Owner", "owner@example.org", "a long password")
    appeal = new_appeal(owner, "Azadlıq jurnalistlərə", "Avropa Şurası", "Biz **tələb** edirik.")
    appeal.publish()
    db.session.commit()
    slug = appeal.slug
    client = smtp_app.test_client()

    name = "İlahə Şəfiyeva"
    response = client.post(f"/a/{slug}/sign", data={
        "full_name": name, "affiliation": "Hüquqşünas", "email": "ilahe@example.org", "consent": "y",
        "csrf_token": csrf_token(client, f"/a/{slug}/sign"),
    })
    assert response.status_code == 303

    [msg] = smtp_app.smtp_sink.wait_for(1)
    assert msg["To"] == "ilahe@example.org"
    link = LINK_RE.search(message_text(msg)).group(0)
    path = link.split("://", 1)[1].split("/", 1)[1]
    assert client.get("/" + path).status_code == 200
    confirmed = client.post("/" + path, data={"csrf_token": csrf_token(client, "/" + path)})
    assert confirmed.status_code == 200
    assert db.session.scalar(db.select(Signature.status)) is SignatureStatus.CONFIRMED

    page = client.get(f"/a/{slug}").get_data(as_text=True)
    assert "1</strong> confirmed signature" in page

    token = csrf_token(client, "/auth/login")
    client.post("/auth/login", data={"email": "owner@example.org", "password": "a long password",
                                     "csrf_token": token})
    pdf = client.get(f"/organizer/appeals/{slug}/pdf")
    assert pdf.status_code == 200
    reader = PdfReader(io.BytesIO(pdf.data))
    text = "\n".join(p.extract_text() for p in reader.pages)
    assert f"{name} – Hüquqşünas" in text
    assert "ə" in text and "ş" in text and "İ" in text
    assert "Page 1 of " in text and f"Page {len(reader.pages)} of {len(reader.pages)}" in text
