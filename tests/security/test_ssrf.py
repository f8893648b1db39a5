"""SSRF and local files: the letter and its logo cannot make WeasyPrint read a file or open a connection."""
import base64
import io
import socket
import threading

import pytest
from PIL import Image
from pypdf import PdfReader

from petitions.extensions import db
from petitions.pdf.models import PdfSettings
from petitions.pdf.engine.assemble import url_fetcher

from ..conftest import csrf_token, new_appeal
from ..pdf_files import rendered_pdf


class Listener:
    """A TCP socket on loopback that counts every connection made to it."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.05)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self):
        self._stop.set()
        self._thread.join()
        self.sock.close()


@pytest.fixture
def listener():
    server = Listener()
    yield server
    server.close()


@pytest.fixture
def secret(tmp_path):
    path = tmp_path / "secret.txt"
    path.write_text("TOP-SECRET-LOCAL-FILE")
    return path


def _letter_payloads(port: int, secret) -> list[str]:
    http = f"http://127.0.0.1:{port}"
    return [
        f'<img src="file://{secret}">', f'<img src="{http}/img.png">', f"![x]({http}/md.png)", f"![x](file://{secret})",
        f'<link rel="stylesheet" href="{http}/x.css">', f'<style>@import "{http}/i.css";</style>',
        f"<style>body{{background:url({http}/bg.png)}}</style>", f'<p style="background:url({http}/s.png)">x</p>',
        f'<iframe src="file://{secret}"></iframe>', f'<object data="{http}/o"></object>',
        f'<svg><image href="{http}/svg.png"/></svg>', f"[link]({http}/a)",
        f'<img src="data:image/svg+xml;base64,{base64.b64encode(_svg_ref(http).encode()).decode()}">',
    ]


def _svg_ref(http: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
            f'<image xlink:href="{http}/nested.png" width="9" height="9"/></svg>')


def _pdf_text(data: bytes) -> str:
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_letter_fields_cannot_fetch_files_or_network(app, world, listener, secret):
    payload = "\n\n".join(_letter_payloads(listener.port, secret))
    line = " ".join(_letter_payloads(listener.port, secret))  # single-line parts refuse line breaks
    appeal = new_appeal(world.owner, "Title " + line[:150], "\n".join(_letter_payloads(listener.port, secret)),
                        payload, subject=line[:300], salutation=line[:200], closing=payload[:300],
                        place=line[:100], demands=_letter_payloads(listener.port, secret))
    appeal.publish()
    db.session.flush()
    from petitions.translations import services as translating

    translation = translating.save_translation(appeal, "fr", {"title": "Titre", "body": payload}, world.owner)
    translating.approve(translation, world.owner)
    db.session.commit()
    for data in (rendered_pdf(appeal), rendered_pdf(appeal, variant="combined")):
        assert listener.connections == 0
        text = _pdf_text(data)
        assert "TOP-SECRET" not in text and "root:x:" not in text
        assert b"TOP-SECRET" not in data


def test_the_fetcher_refuses_every_scheme_but_inline_data(listener, secret):
    fetch = url_fetcher()
    for url in (f"file://{secret}", f"http://127.0.0.1:{listener.port}/", f"ftp://127.0.0.1:{listener.port}/",
                "file:///etc/passwd", f"HTTP://127.0.0.1:{listener.port}/"):
        with pytest.raises(ValueError):
            fetch(url)
    assert listener.connections == 0


def _post_logo(client, slug, logo: bytes, filename: str):
    token = csrf_token(client, f"/organizer/appeals/{slug}/pdf/status")
    return client.post(f"/organizer/appeals/{slug}/pdf/settings", content_type="multipart/form-data", data={
        "csrf_token": token, "coalition_name": "Coalition", "place": "Geneva", "page_size": "A4", "columns": "2",
        "grouping": "none", "logo": (io.BytesIO(logo), filename)})


SVG = ('<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="40" height="20">'
       "{}</svg>")


def _hostile_svgs(port: int, secret) -> dict[str, str]:
    http = f"http://127.0.0.1:{port}"
    inner = base64.b64encode(_svg_ref(http).encode()).decode()
    return {
        "css escape in style attribute": SVG.format(f'<rect width="9" height="9" style="fill:\\75rl({http}/a)"/>'),
        "css escape in presentation attribute": SVG.format(f'<rect width="9" height="9" fill="\\75rl({http}/b)"/>'),
        "escaped @import": SVG.format(f'<style>@\\69mport "{http}/c.css";</style><rect width="9" height="9"/>'),
        "escaped url in style element": SVG.format(f"<style>rect{{fill:u\\72l({http}/d)}}</style><rect/>"),
        "character reference for the backslash": SVG.format(f'<rect fill="&#92;75rl({http}/e)"/>'),
        "xml-stylesheet": f'<?xml version="1.0"?><?xml-stylesheet type="text/css" href="{http}/f.css"?>'
                          + SVG.format("<rect width='9' height='9'/>"),
        "xxe": f'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "file://{secret}">]>'
               + SVG.format("<text>&x;</text>"),
        "xlink image": SVG.format(f'<image xlink:href="{http}/g.png" width="9" height="9"/>'),
        "use of another file": SVG.format(f'<use href="{http}/h.svg#x"/>'),
        "foreignObject": SVG.format(f'<foreignObject><img xmlns="http://www.w3.org/1999/xhtml" src="{http}/i"/>'
                                    "</foreignObject>"),
        "script": SVG.format("<script>fetch('/')</script>"),
        "data uri nesting an svg": SVG.format(f'<image href="data:image/svg+xml;base64,{inner}" width="9"/>'),
        "feImage filter": SVG.format(f'<filter id="f"><feImage href="{http}/j"/></filter><rect filter="url(#f)"/>'),
        "css url in filter attribute": SVG.format(f'<rect filter="url({http}/k#f)"/>'),
        "billion laughs": '<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;'
                          '&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
                          + SVG.format("<text>&c;</text>"),
        "huge dimensions": SVG.replace('width="40" height="20"', 'width="100000000" height="100000000"').format(
            '<rect width="100000000" height="100000000"/>'),
        "font-face in style": SVG.format(f'<style>@font-face{{src:url({http}/l.woff)}}</style><text>x</text>'),
    }


@pytest.mark.parametrize("name", list(_hostile_svgs(1, "/x")))
def test_hostile_svg_logo_is_refused_or_neutralized_and_never_fetches(app, world, client_as, listener, secret, name):
    logo = _hostile_svgs(listener.port, secret)[name].encode()
    client = client_as(world.owner)
    response = _post_logo(client, world.appeal.slug, logo, "logo.svg")
    db.session.expire_all()
    settings = db.session.get(PdfSettings, world.appeal.id)
    if response.status_code == 422:
        assert settings is None  # nothing stored on refusal
    else:
        assert response.status_code == 303
        stored = settings.logo
        # What is kept is rebuilt: the address and the file are gone, not merely unreachable.
        assert f"127.0.0.1:{listener.port}".encode() not in stored and str(secret).encode() not in stored
        assert b"<?xml-stylesheet" not in stored and b"\\" not in stored and b"@" not in stored
    data = rendered_pdf(world.appeal)
    assert listener.connections == 0
    assert "TOP-SECRET" not in _pdf_text(data) and b"TOP-SECRET" not in data


def test_a_hostile_svg_stored_before_the_check_is_rebuilt_at_render(app, world, listener, secret):
    """Logos saved by an older version never passed the new check; the fetcher rebuilds every inline SVG."""
    raw = SVG.format(f'<text>&#x41;</text><image href="file://{secret}" width="9"/>'
                     f'<rect style="fill:\\75rl(http://127.0.0.1:{listener.port}/z)"/>')
    db.session.add(PdfSettings(appeal_id=world.appeal.id, logo=raw.encode(), logo_mime="image/svg+xml"))
    db.session.commit()
    data = rendered_pdf(world.appeal)
    assert listener.connections == 0 and "TOP-SECRET" not in _pdf_text(data)


@pytest.mark.parametrize("mime", ["image/svg+xml", "image/png", "text/plain"])
def test_inline_markup_under_any_declared_type_is_rebuilt_by_the_fetcher(listener, secret, mime):
    """WeasyPrint tries markup that Pillow cannot open as SVG, whatever type the data: URL declares."""
    raw = SVG.format(f'<image href="file://{secret}" width="9"/>').encode()
    with pytest.raises(ValueError):
        url_fetcher()(f"data:{mime};base64,{base64.b64encode(raw).decode()}")
    harmless = url_fetcher()(f"data:{mime};base64,{base64.b64encode(SVG.format('<rect/>').encode()).decode()}")
    assert harmless.content_type == "image/svg+xml" and b"<rect/>" in harmless.read()
    png = io.BytesIO()
    Image.new("RGB", (2, 2)).save(png, "PNG")
    raster = url_fetcher()(f"data:image/png;base64,{base64.b64encode(png.getvalue()).decode()}")
    assert raster.read() == png.getvalue()


@pytest.mark.parametrize("attribute", ["href", "xlink:href"])
def test_an_svg_use_bomb_is_refused_before_anything_renders_it(app, world, client_as, attribute):
    """Eight levels of ten <use> each draw 10^8 rectangles: a few hundred bytes that would stall every render."""
    levels = "".join(f'<g id="a{n}">' + f'<use {attribute}="#a{n - 1}"/>' * 10 + "</g>" for n in range(1, 9))
    logo = SVG.format(f'<defs><g id="a0"><rect width="1" height="1"/></g>{levels}</defs><use {attribute}="#a8"/>')
    response = _post_logo(client_as(world.owner), world.appeal.slug, logo.encode(), "logo.svg")
    assert response.status_code == 422 and "nested" in response.get_data(as_text=True)
    assert db.session.get(PdfSettings, world.appeal.id) is None


def test_a_harmless_svg_logo_survives_the_rebuild(app, world, client_as):
    logo = SVG.format('<defs><linearGradient id="g"><stop offset="0" stop-color="#1f3a5f"/></linearGradient>'
                      '<circle id="dot" r="2"/></defs><use href="#dot" x="3"/><use xlink:href="#dot" x="9"/>'
                      '<rect width="40" height="20" style="fill:url(#g);stroke:#000" class="x"/>'
                      '<text x="2" y="15" font-family="DejaVu Sans">AB</text>')
    client = client_as(world.owner)
    assert _post_logo(client, world.appeal.slug, logo.encode(), "logo.svg").status_code == 303
    stored = db.session.get(PdfSettings, world.appeal.id).logo
    assert b'fill="url(#g)"' in stored and b'stroke="#000"' in stored and b">AB</text>" in stored
    assert stored.count(b"<use ") == 2
    assert b"class=" not in stored and b"style=" not in stored


def test_a_png_decompression_bomb_is_refused(app, world, client_as):
    buf = io.BytesIO()
    Image.new("1", (20000, 20000)).save(buf, "PNG")  # a few KB on disk, 400 million pixels in memory
    client = client_as(world.owner)
    response = _post_logo(client, world.appeal.slug, buf.getvalue(), "logo.png")
    assert response.status_code == 422
    assert db.session.get(PdfSettings, world.appeal.id) is None
