"""Fuzz every route: any path value, query argument and form field, with a valid CSRF token; never a 5xx.

The routes come from the app's url_map; the form fields from the forms the app itself renders (harvested from
every page), so that requests reach the form logic and not only the CSRF check. A request answered with a 4xx
must leave every table as it was. Examples are derandomized and the data is built the same way every time, so a
failure reproduces.
"""
import io
import json
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from itertools import product
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, select, text

from petitions import create_app, crypto, demo
from petitions.members import services as members
from petitions.appeals import services as appeals
from petitions.appeals.models import AppealRevision, AppealTemplate
from petitions.members.models import AppealMember, Role
from petitions.auth.models import User
from petitions.auth.services import register_user
from petitions.extensions import db
from petitions.registry import services as registry
from petitions.privacy import selfservice
from petitions.signatories import queue as review
from petitions.signatories.models import DuplicatePair
from petitions.signing import operations as signing
from petitions import links as tokens
from petitions.links import RECONFIRM
from petitions.signing.models import Signature
from petitions.translations import services as translations

from ..conftest import SmtpSink, base_config, copy_database, csrf_token, drop_database, free_port

EXAMPLES = 12  # per route and method: ~130 combinations, the whole module well under three minutes on two cores
# No shrinking: a failure already names the request, and shrinking a slow web request takes minutes.
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None, print_blob=True,
                    phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))


def _routes() -> list[tuple[str, str, str]]:
    """Return (rule, method, endpoint) for every route of the app."""
    app = create_app(base_config("/nonexistent/fuzz-routes.sqlite"))
    found = []
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((rule.rule, method, rule.endpoint))
    return sorted(found)


ROUTES = _routes()

# --- values ---------------------------------------------------------------------------------------------------

TEXT = st.text(st.characters(codec="utf-8"), max_size=40)  # any Unicode a client can send (no lone surrogates)
NASTY = st.sampled_from([
    "", " ", "\x00", "a\x00b", "²", "٣", "１", "-1", "0", "+1", "1.5", "1e9", "1_000", str(2**63 - 1), str(2**63),
    str(2**64), "9" * 30, "9" * 5000, "-" + "9" * 30, "null", "true", "[]", "{}", "%00", "../../etc/passwd",
    "<script>alert(1)</script>", "' OR 1=1 --", "\u202e\u2066", "\ufeff", "x" * 70_000, "é" * 300_000,
])
INTS = st.integers(min_value=-(2**70), max_value=2**70).map(str)
ANY_VALUE = st.one_of(TEXT, NASTY, INTS)
QUERY_KEYS = ["before", "after", "a", "b", "start", "lang", "next", "level", "flag", "review", "status", "language",
              "affiliation", "limit", "offset", "slug", "_method", "_external", "_anchor", "page", "id", "q"]


@dataclass
class Form:
    """A form as a page renders it: where it posts and the fields with the values it would send."""

    action: str
    method: str
    fields: dict[str, list[str]] = field(default_factory=dict)
    choices: dict[str, set[str]] = field(default_factory=dict)
    files: set[str] = field(default_factory=set)
    types: dict[str, str] = field(default_factory=dict)

    def filled(self, token: str) -> dict[str, list[str]]:
        """Return the fields as a person would send them: blanks filled in plausibly, this session's token."""
        return {name: [token] if name.endswith("csrf_token") else
                [v or _plausible(name, self.types.get(name, "text")) for v in values] or values
                for name, values in self.fields.items()}


def _plausible(name: str, kind: str) -> str:
    if kind == "email" or "email" in name:
        return "fuzz@example.org"
    if kind == "date" or "date" in name or "deadline" in name:
        return "2031-01-15"
    if kind == "number" or "goal" in name:
        return "100"
    if "domain" in name:
        return "fuzz.example"
    if "password" in name:
        return "a long fuzzing password"
    return "Fuzz"


class _FormParser(HTMLParser):
    """Collect the forms of a page with their fields, options and default values."""

    def __init__(self, url: str):
        super().__init__()
        self.url, self.forms, self._form, self._select, self._textarea = url, [], None, None, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a" and "?" in (a.get("href") or ""):  # a link's query keys are what its page reads
            link = urlsplit(a["href"])
            self.forms.append(Form(link.path, "LINK", {k: v for k, v in parse_qs(link.query).items()}))
        if tag == "form":
            action = urlsplit(a.get("action") or self.url).path
            self._form = Form(action, (a.get("method") or "get").upper())
            self.forms.append(self._form)
        elif tag == "option" and self._select and self._form:
            self._form.choices.setdefault(self._select, set()).add(a.get("value", ""))
            if "selected" in a:
                self._form.fields[self._select] = [a.get("value", "")]
            return
        elif self._form is None or not a.get("name"):
            return
        elif tag == "input":
            name, kind, value = a["name"], (a.get("type") or "text").lower(), a.get("value") or ""
            self._form.types[name] = kind
            self._form.choices.setdefault(name, set()).add(value)
            if kind in ("checkbox", "radio"):
                if "checked" in a or kind == "checkbox":
                    self._form.fields.setdefault(name, []).append(value or "y")
            elif kind == "file":
                self._form.files.add(name)
            else:
                self._form.fields.setdefault(name, []).append(value)
        elif tag == "button":  # only the pressed button is sent: the first of a name stands for it
            self._form.choices.setdefault(a["name"], set()).add(a.get("value") or "")
            self._form.fields.setdefault(a["name"], [a.get("value") or ""])
        elif tag == "select":
            self._select = a["name"]
            self._form.fields.setdefault(self._select, [])
        elif tag == "textarea":
            self._textarea = a["name"]
            self._form.fields[self._textarea] = [""]

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_data(self, data):
        if self._textarea and self._form:
            self._form.fields[self._textarea] = [self._form.fields[self._textarea][0] + data]

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select" and self._select and self._form:
            if not self._form.fields.get(self._select):
                self._form.fields[self._select] = sorted(self._form.choices.get(self._select, {""}))[:1]
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def forms_of(url: str, html: str) -> list[Form]:
    parser = _FormParser(url)
    parser.feed(html)
    return parser.forms


# --- the world the attacker probes: demo-like data ------------------------------------------------------------

TABLES = sorted(t.name for t in db.metadata.sorted_tables)
COUNT_SQL = "SELECT " + ", ".join(f'(SELECT count(*) FROM "{t}")' for t in TABLES)


@dataclass
class Demo:
    app: object
    known: dict[str, list[str]]  # path argument -> values that exist
    forms: dict[str, list[Form]]  # action path -> forms that post there
    owner_email: str
    password: str
    db_uri: str = ""

    def __post_init__(self):
        # An engine of its own sees only what the app committed.
        self._engine = create_engine(self.db_uri)

    def counts(self) -> dict[str, int]:
        """Return the rows of every table."""
        with self._engine.connect() as conn:
            return dict(zip(TABLES, conn.execute(text(COUNT_SQL)).one()))

    def close(self):
        self._engine.dispose()


def _seed() -> dict[str, list[str]]:
    """Build the demo data plus a revision history, a translation, a duplicate, an invitation and a template."""
    made = demo.load_demo()
    owner: User = made["organizer"]
    open_appeal, draft = made["appeals"]
    other = register_user("Other Owner", "other@fuzz.example", demo.ORGANIZER_PASSWORD)
    editor = register_user("Editor", "editor@fuzz.example", demo.ORGANIZER_PASSWORD)
    foreign = appeals.create_appeal(other, {"title": "Someone else's appeal", "body": "Not yours."})
    foreign.publish()
    content = dict(open_appeal.content())
    appeals.save_text(open_appeal, owner, {**content, "body": content["body"] + "\n\nAn amendment."})
    appeals.publish_revision(open_appeal, owner)
    appeals.save_text(open_appeal, owner, {**content, "body": content["body"] + "\n\nA later, unpublished change."})
    translation = translations.save_translation(open_appeal, "ru", {**content, "title": "Освободите журналистку"},
                                                owner)
    translations.approve(translation, owner)
    translations.save_translation(open_appeal, "de", {**content, "title": "Freiheit"}, owner)
    twin = Signature(appeal=open_appeal, full_name="Leyla Ahmadova", affiliation="Lawyer",
                     email_hash=crypto.email_hash("leyla2@demo.invalid"),
                     email_encrypted=crypto.encrypt("leyla2@demo.invalid"), text_hash=open_appeal.content_hash,
                     consent_at=open_appeal.published_at, revision_id=open_appeal.published_revision_id)
    twin.confirm()
    db.session.add(twin)
    pending = signing.sign(open_appeal, "Pending Person", "Student", "pending@demo.invalid").signature
    db.session.add(AppealTemplate(owner_id=owner.id, name="Mine", content=content))
    registry.add_organization("Bar Association", aliases=["Bar"], domains=["bar.example"], created_by=owner)
    invitation = members.invite(open_appeal, owner, "newcomer@fuzz.example", Role.EDITOR)
    db.session.add(AppealMember(appeal=open_appeal, user=editor, role=Role.REVIEWER))
    db.session.commit()
    review.scan_duplicates(open_appeal, None)
    db.session.commit()
    signatures = list(db.session.scalars(select(Signature).order_by(Signature.id)))
    leyla = signatures[0]
    return {
        "slug": [open_appeal.slug, draft.slug, foreign.slug],
        "lang": ["ru", "de", "en", "az", "fr"],
        "token": [selfservice.make_token(leyla.email_hash), signing.confirmation_token(pending),
                  signing.withdrawal_token(signatures[1]), tokens.make_token(members.INVITE, {"i": invitation.id}),
                  tokens.make_token(RECONFIRM, {"s": leyla.id, "r": 1, "h": leyla.email_hash[:16]})],
        "signature_id": [str(s.id) for s in signatures[:3]] + [str(foreign.id * 1000)],
        "user_id": [str(editor.id), str(owner.id), str(other.id)],
        "number": [str(n) for n in db.session.scalars(select(AppealRevision.number)
                                                      .where(AppealRevision.appeal_id == open_appeal.id))],
        "pair_id": [str(p) for p in db.session.scalars(select(DuplicatePair.id))] or ["1"],
        "name": ["DejaVuSans.ttf"],
        "filename": ["style.css", "x.pdf"],
        "document_id": ["1"],
        "rest": ["appeals", "appeals/" + open_appeal.slug],
    }


def _pages(client, known, rules) -> dict[str, list[Form]]:
    """Open every GET route with known values and collect the forms they render, by where they post."""
    forms: dict[str, list[Form]] = {}
    for rule, method, endpoint in rules:
        if method != "GET" or endpoint in ("organizer.pdf", "pdfs.combined", "pdfs.language_version",
                                           "public_pdf.download", "signatories.export", "pdfs.export_csv"):
            continue
        args = re.findall(r"<(?:[^:>]+:)?([^>]+)>", rule)
        for combo in product(*[known.get(a, ["x"])[:2] for a in args]):
            url = rule
            for arg, value in zip(args, combo):
                url = re.sub(r"<(?:[^:>]+:)?" + re.escape(arg) + ">", quote(value, safe=""), url, count=1)
            response = client.get(url)
            if response.mimetype == "text/html":
                for form in forms_of(url, response.get_data(as_text=True)):
                    forms.setdefault(form.action, []).append(form)
    return forms


@pytest.fixture(scope="module")
def seeded(tmp_path_factory, migrated_db):
    """Seed one database and harvest the forms once; every test starts from a copy of it."""
    from aiosmtpd.controller import Controller

    controller = Controller(SmtpSink(), hostname="127.0.0.1", port=free_port())
    controller.start()
    folder = tmp_path_factory.mktemp("fuzz")
    uri = copy_database(migrated_db, folder / "seed.sqlite")
    # Render jobs stay queued (a worker would take them): the fuzzer probes requests, not the typesetter.
    config = {**base_config(uri), "MAIL_PORT": controller.port, "PDF_EXECUTOR": "worker"}
    app = create_app(config)
    app.instance_path = str(folder / "instance")
    with app.app_context():
        known = _seed()
        db.session.remove()
        db.engine.dispose()
    seed_copy = copy_database(uri, folder / "pristine.sqlite")
    client = _logged_in(app, demo.ORGANIZER_EMAIL, demo.ORGANIZER_PASSWORD)
    forms = _pages(client, known, ROUTES)
    for action, found in _pages(app.test_client(), known,
                                [r for r in ROUTES if not r[0].startswith("/organizer")]).items():
        forms.setdefault(action, []).extend(found)
    with app.app_context():
        db.engine.dispose()
    yield seed_copy, config, known, forms
    controller.stop()


@pytest.fixture
def world(seeded, tmp_path):
    seed, config, known, forms = seeded
    uri = copy_database(seed, tmp_path / "fuzz.sqlite")
    app = create_app({**config, "SQLALCHEMY_DATABASE_URI": uri})
    app.instance_path = str(tmp_path / "instance")
    world = Demo(app, known, forms, demo.ORGANIZER_EMAIL, demo.ORGANIZER_PASSWORD, uri)
    yield world
    world.close()
    with app.app_context():
        db.engine.dispose()
    drop_database(uri)


def _logged_in(app, email, password):
    client = app.test_client()
    response = client.post("/auth/login", data={"email": email, "password": password,
                                                "csrf_token": csrf_token(client, "/auth/login")})
    assert response.status_code in (302, 303)
    return client


# --- requests ---------------------------------------------------------------------------------------------

def path_value(data, name: str, converter: str, known: dict[str, list[str]]) -> str:
    if converter.startswith("any("):
        options = [o.strip() for o in converter[4:-1].split(",")]
        return data.draw(st.one_of(st.sampled_from(options), TEXT.filter(bool)), label=name)
    choices = known.get(name) or ["x"]
    evil = st.one_of(TEXT, NASTY, INTS).filter(lambda v: len(v) < 10_000)
    return data.draw(st.one_of(st.sampled_from(choices), st.sampled_from(choices), evil), label=name)


def build_url(data, rule: str, known) -> str:
    def replace(match):
        converter, name = (match.group(1) or "string"), match.group(2)
        value = path_value(data, name, converter, known)
        safe = "/" if converter == "path" else ""
        return quote(value, safe=safe) or "x"

    url = re.sub(r"<(?:([^:>]+):)?([^>]+)>", replace, rule)
    query = data.draw(st.dictionaries(st.one_of(st.sampled_from(QUERY_KEYS), TEXT.filter(bool)),
                                      st.one_of(ANY_VALUE, st.lists(ANY_VALUE, min_size=2, max_size=3)),
                                      max_size=4), label="query")
    if query:
        url += "?" + urlencode(query, doseq=True)
    return url


def field_value(data, name: str, form: Form | None):
    choices = sorted((form.choices.get(name) or set()) | set((form.fields.get(name) or []))) if form else []
    plain = st.one_of(st.sampled_from(choices), ANY_VALUE) if choices else ANY_VALUE
    upload = st.builds(lambda body, fname: (io.BytesIO(body), fname),
                       st.one_of(st.binary(max_size=200), st.sampled_from([
                           b"Name,Affiliation\nLeyla,\"" + b"x" * 140_000 + b"\"\n", b"%PDF-1.7\n%\xff\xff\n",
                           b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, b"Name;E-mail\nA;a@b.c\n", "Имя\nАнна".encode("cp1251")])),
                       st.sampled_from(["list.csv", "list.txt", "logo.png", "x.pdf", "", "../../x"]))
    return data.draw(st.one_of(plain, plain, plain, upload, st.lists(plain, min_size=2, max_size=3)), label=name)


def build_form(data, url: str, demo_world: Demo, token: str) -> dict:
    forms = demo_world.forms.get(urlsplit(url).path) or []
    form = data.draw(st.sampled_from(forms), label="form") if forms else None
    body: dict = {}
    if form is not None and data.draw(st.booleans(), label="start from the page's values"):
        body = {k: [token] if k.endswith("csrf_token") else list(v) for k, v in form.fields.items()}
    names = sorted(set(body) | (set(form.choices) if form else set()))
    for name in data.draw(st.lists(st.sampled_from(names), max_size=4, unique=True), label="changed") if names else []:
        if data.draw(st.booleans(), label=f"drop {name}"):
            body.pop(name, None)
        else:
            body[name] = field_value(data, name, form)
    for name in data.draw(st.lists(TEXT.filter(bool), max_size=2), label="extra fields"):
        body[name] = field_value(data, name, None)
    numbered = [n for n in names if re.search(r"\d", n)]  # "addressees-0-name", "s12-full_name"
    if numbered and data.draw(st.booleans(), label="renumber a field"):
        name = data.draw(st.sampled_from(numbered))
        number = data.draw(st.one_of(NASTY, INTS).filter(lambda v: len(v) < 10_000))
        body[re.sub(r"\d+", lambda _: number, name, count=1)] = field_value(data, name, form)
    csrf = data.draw(st.sampled_from(["valid", "valid", "valid", "missing", "wrong"]), label="csrf")
    if csrf == "valid":
        body["csrf_token"] = token
    elif csrf == "wrong":
        body["csrf_token"] = data.draw(ANY_VALUE)
    else:
        body.pop("csrf_token", None)
    return body


JSON_VALUES = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), TEXT),
                           lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                   st.dictionaries(TEXT, inner, max_size=3)), max_leaves=6)


def send(client, method: str, url: str, body: dict, data, token: str):
    kind = data.draw(st.sampled_from(["form", "form", "form", "json", "raw"]), label="body kind")
    if method == "GET":
        return client.get(url)
    if kind == "json":
        # The form's own fields as JSON, with the token in the header as the editor's script sends it.
        fields = {k: v for k, v in body.items() if isinstance(v, str | list) and all(isinstance(x, str) for x in v)}
        shape = data.draw(st.sampled_from(["fields", "fields", "any", "broken"]), label="json")
        payload = (json.dumps(fields) if shape == "fields" else
                   json.dumps(data.draw(JSON_VALUES, label="json value")) if shape == "any" else
                   data.draw(st.sampled_from(['{"csrf_token": 1}', "[", "{", '{"a": ' * 50, "\ufeff{}"])))
        headers = {"X-CSRFToken": token} if data.draw(st.booleans(), label="csrf header") else {}
        return client.open(url, method=method, data=payload, content_type="application/json", headers=headers)
    if kind == "raw":
        return client.open(url, method=method, data=data.draw(st.binary(max_size=300)),
                           content_type=data.draw(st.sampled_from([
                               "multipart/form-data", "multipart/form-data; boundary=x", "text/plain",
                               "application/x-www-form-urlencoded; charset=latin-9", "application/octet-stream"])))
    return client.open(url, method=method, data=body)


def check(demo_world: Demo, response, method: str, url: str, before: dict[str, int]):
    assert response.status_code < 500, (method, url, response.status_code, response.get_data(as_text=True)[:300])
    if 400 <= response.status_code < 500:
        after = demo_world.counts()
        changed = {t: (before[t], after[t]) for t in before if before[t] != after[t]}
        assert not changed, (method, url, response.status_code, changed)


# Each parameter alone with each of these, the rest as the app's own pages send it: what random search misses.
HOSTILE = ["²", "٣", "-1", "0", str(2**63), "9" * 5000, "\x00", "x" * 70_000]
HOSTILE_FIELD = ["²", str(2**63), "9" * 5000, None, "upload"]  # None: the field left out
HOSTILE_UPLOADS = [b"", b"\x00\xff" * 100, b"Name,Affiliation\nLeyla,\"" + b"x" * 140_000 + b"\"\n",
                   "Имя;Организация\nАнна;Юрист\n".encode("utf-16"), b"%PDF-1.7\n" + b"\x00" * 50]


def _valid_url(rule: str, known) -> str:
    return re.sub(r"<(?:([^:>]+):)?([^>]+)>", lambda m: quote(
        m.group(1)[4:-1].split(",")[0].strip() if (m.group(1) or "").startswith("any(") else
        (known.get(m.group(2)) or ["x"])[0], safe="/"), rule)


def sweep(world: Demo, client, token: str, rule: str, method: str):
    """Send each path argument, query argument and form field alone with each hostile value."""
    url = _valid_url(rule, world.known)
    path = urlsplit(url).path
    forms = world.forms.get(path) or []
    posted = [f for f in forms if f.method == method] or ([Form(path, method, {"csrf_token": [token]})]
                                                          if method != "GET" else [])
    base = posted[0].filled(token) if posted else {}
    base["csrf_token"] = token
    token_fields = {k for f in posted for k in f.fields if k.endswith("csrf_token")} | {"csrf_token"}

    def go(target: str, body: dict):
        before = world.counts()
        # Prefixed forms carry "org-csrf_token": every token field gets this session's token.
        data = {k: ([token] if k.endswith("csrf_token") and k in token_fields else v)
                for k, v in body.items() if v is not None}
        response = client.get(target) if method == "GET" else client.open(target, method=method, data=data)
        check(world, response, method, target, before)

    for arg in re.findall(r"<(?:[^:>]+:)?([^>]+)>", rule):
        for value in HOSTILE:
            swapped = re.sub(r"<(?:([^:>]+):)?" + re.escape(arg) + ">", quote(value, safe="") or "x", rule, count=1)
            go(_valid_url(swapped, world.known), base)
    keys = set(QUERY_KEYS) | {k for f in forms if f.method in ("GET", "LINK") for k in f.fields}
    for value in HOSTILE:
        query = {k: value for k in keys}
        for f in forms:  # "start=own-1" becomes "start=own-²": the digits of the app's own values replaced
            for k, values in f.fields.items():
                if f.method in ("GET", "LINK") and any(re.search(r"\d", v) for v in values):
                    query[k] = re.sub(r"\d+", lambda _: value, values[0], count=1)
        go(url + "?" + urlencode(query), base)
    for form in posted:
        names = set(form.fields) | set(form.choices)
        for name in sorted(names - {"csrf_token"}):
            renamed = {re.sub(r"\d+", lambda _: v, name, count=1) for v in ("²", str(2**63))} - {name} \
                if re.search(r"\d", name) else set()
            for value in HOSTILE_FIELD:
                body = {**form.filled(token), "csrf_token": token}
                body[name] = (io.BytesIO(b"x"), "x.txt") if value == "upload" else value
                go(url, body)
            for other in renamed:
                go(url, {**form.filled(token), "csrf_token": token, other: ["x"]})
        for name in sorted(form.files):
            for payload, filename in product(HOSTILE_UPLOADS, ["list.csv", "list.txt"]):
                go(url, {**form.filled(token), "csrf_token": token, name: (io.BytesIO(payload), filename)})


@pytest.mark.parametrize("rule,method,endpoint", ROUTES, ids=[f"{m} {r}" for r, m, _ in ROUTES])
def test_no_route_answers_5xx_to_anything(world, rule, method, endpoint):
    organizer = rule.startswith("/organizer")
    owner = _logged_in(world.app, world.owner_email, world.password)
    stranger = world.app.test_client()
    tokens = {id(owner): csrf_token(owner, "/privacy/my-data"), id(stranger): csrf_token(stranger, "/privacy/my-data")}
    swept = stranger if endpoint.startswith("auth.") else owner  # the owner must stay logged in
    sweep(world, swept, tokens[id(swept)], rule, method)

    @SETTINGS
    @given(st.data())
    def probe(data):
        nonlocal owner
        client = owner if organizer or data.draw(st.booleans(), label="logged in") else stranger
        url = build_url(data, rule, world.known)
        body = build_form(data, url, world, tokens[id(client)])
        before = world.counts()
        response = send(client, method, url, body, data, tokens[id(client)])
        check(world, response, method, url, before)
        if endpoint in ("auth.logout", "auth.login", "auth.register") and client is owner:
            owner = _logged_in(world.app, world.owner_email, world.password)  # stay logged in as the owner
            tokens[id(owner)] = csrf_token(owner, "/privacy/my-data")

    probe()


API_METHODS = st.sampled_from(["GET", "GET", "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])


@SETTINGS
@given(data=st.data())
def test_api_answers_json_and_never_5xx(world, data):
    known = world.known
    path = data.draw(st.one_of(
        st.sampled_from([f"/api/v1/appeals/{s}" for s in known["slug"]]
                        + [f"/api/v1/appeals/{s}/signatures" for s in known["slug"]]),
        st.builds(lambda s: f"/api/v1/appeals/{quote(s, safe='')}/signatures", TEXT.filter(bool)),
        st.builds(lambda s: "/api/v1/" + quote(s, safe="/"), TEXT)), label="path")
    query = data.draw(st.dictionaries(st.sampled_from(["limit", "offset", "after", "lang", "page", "x"]),
                                      st.one_of(ANY_VALUE, st.lists(ANY_VALUE, min_size=2, max_size=3)), max_size=3))
    url = path + ("?" + urlencode(query, doseq=True) if query else "")
    method = data.draw(API_METHODS, label="method")
    body = data.draw(st.one_of(st.none(), TEXT, st.binary(max_size=200)), label="body")
    before = world.counts()
    response = world.app.test_client().open(url, method=method, data=body,
                                            content_type=data.draw(st.sampled_from(
                                                ["application/json", "text/plain", "multipart/form-data"])))
    check(world, response, method, url, before)
    if method not in ("HEAD", "OPTIONS"):
        assert response.is_json, (method, url, response.status_code)
        if response.status_code >= 400:  # RFC 9457 problem documents
            assert response.mimetype == "application/problem+json", (method, url, response.status_code)
            assert set(response.get_json()) >= {"type", "title", "status", "detail"}
