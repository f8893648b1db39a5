"""Real data behind every route parameter, a whole-database snapshot, and a module-wide app for read-only crawls."""
from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from datetime import date

import flask
from sqlalchemy import select, text
from werkzeug.routing.converters import AnyConverter

from petitions import create_app
from petitions.api import tokens as api_tokens
from petitions.members import services as membership
from petitions.appeals import services as drafting
from petitions.appeals.models import Appeal
from petitions.delivery import operations as delivering
from petitions.delivery.models import Delivery
from petitions.members.models import Role
from petitions.auth import services as accounts
from petitions.auth.services import register_user
from petitions.extensions import db
from petitions.registry import services as registry
from petitions.privacy import selfservice
from petitions.signatories.models import DuplicatePair
from petitions.signing import operations as signing
from petitions.translations import services as translating
from petitions.updates import operations as updates

from ..conftest import base_config, copy_database, fresh_requests
from .conftest import PASSWORD, build_world

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


@dataclass
class Data:
    """The ids, slugs and valid link tokens of one appeal's objects."""

    slug: str
    appeal_id: int = 0
    signature_ids: list[int] = field(default_factory=list)
    pair_id: int = 0
    revision_number: int = 1
    language: str = "fr"
    member_id: int = 0
    invitation_id: int = 0
    pdf_filename: str = ""
    pdf_document_id: str = ""
    org_id: int = 0
    domain_id: int = 0
    delivery_id: int = 0
    reply_id: int = 0
    api_token_id: int = 0
    tokens: dict[str, str] = field(default_factory=dict)


def enrich(appeal: Appeal, owner, member, tag: str, render_pdf: bool = False) -> Data:
    """Give an appeal signatures (confirmed, pending, a duplicate pair), a second revision, a translation,
    an invitation, a template and optionally a stored PDF; return their ids and valid tokens."""
    data = Data(slug=appeal.slug, appeal_id=appeal.id, member_id=member.id)
    early = [signing.sign(appeal, name, "Lawyer", f"{tag}-{i}@mail.example").signature
             for i, name in enumerate([f"Anar Kərimov {tag}", f"Anar Karimov {tag}"])]
    for signature in early:
        signature.confirm()
    db.session.flush()
    drafting.save_text(appeal, owner, appeal.content() | {"demands": ["Release them now."]})
    drafting.publish_revision(appeal, owner)
    late = signing.sign(appeal, f"Leyla {tag}", "Journalist", f"{tag}-late@mail.example", wants_updates=True).signature
    late.confirm()
    pending = signing.sign(appeal, f"Pending {tag}", "", f"{tag}-pending@mail.example").signature
    db.session.flush()
    pair = DuplicatePair(appeal_id=appeal.id, first_id=early[0].id, second_id=early[1].id, score=0.9)
    db.session.add(pair)
    translation = translating.save_translation(appeal, "fr", {"title": f"Libérez {tag}", "body": "Nous demandons."},
                                               owner)
    translating.approve(translation, owner)
    newcomer = register_user(f"Newcomer {tag}", f"newcomer-{tag}@coalition.example", PASSWORD)
    invitation = membership.invite(appeal, owner, newcomer.email, Role.EDITOR)
    data.invitation_id = invitation.id
    drafting.save_as_template(appeal, owner, f"Template {tag}")
    org = registry.add_organization(f"Bar Association {tag}", created_by=owner)
    domain = registry.add_domain(org, f"bar-{tag}.example", by=owner)
    registry.request_domain_proof(domain, f"secretariat@bar-{tag}.example", by=owner)
    db.session.commit()
    data.org_id, data.domain_id = org.id, domain.id
    data.delivery_id, data.reply_id = _delivery(appeal, owner)
    data.api_token_id = api_tokens.create(owner, f"Token {tag}", [s.value for s in api_tokens.Scope], appeal)[0].id
    db.session.commit()
    data.signature_ids = [s.id for s in (*early, late, pending)]
    data.pair_id = pair.id
    data.tokens = {
        "confirm": signing.confirmation_token(pending),
        "withdraw": signing.withdrawal_token(late),
        "reconfirm": _reconfirm_token(early[0]),
        "invitation": membership.tokens.make_token(membership.INVITE, {"i": invitation.id}),
        "self-service": selfservice.make_token(late.email_hash),
        "registry-proof": registry.domain_proof_token(domain),
        "account-register": accounts.tokens.make_token(accounts.REGISTER, {"e": f"new-{tag}@coalition.example"}),
        "unsubscribe": updates.unsubscribe_token(late),
    }
    if render_pdf:
        from petitions.pdf import jobs

        job = jobs.run_job(jobs.request_render(appeal).id)
        db.session.commit()
        assert job.status.value == "done", job.error
        record = jobs.latest_document(appeal)
        data.pdf_filename, data.pdf_document_id = record.filename, record.id
    return data


def _delivery(appeal: Appeal, owner) -> tuple[int, int]:
    """Log a delivery by post with a reply file (rows only: the seeded appeal stays open for the other routes)."""
    delivery = Delivery(appeal_id=appeal.id, addressee_index=0, addressee_name="Secretary General",
                        revision_number=appeal.published_revision.number, method="post", delivered_on=date.today())
    db.session.add(delivery)
    reply = delivering.record_reply(delivery, date.today(), "Received.", "reply.txt", b"Received.", owner)
    db.session.commit()
    return delivery.id, reply.id


def _reconfirm_token(signature) -> str:
    return signing.reconfirmation_token(signature)


# Which link token a route with a <token> takes; a new token route must be added here to be crawled.
TOKEN_OF_ENDPOINT = {
    "signatures.confirm": "confirm",
    "signatures.withdraw": "withdraw",
    "signatures.reconfirm": "reconfirm",
    "members.accept_invitation": "invitation",
    "privacy.my_data": "self-service",
    "privacy.correct": "self-service",
    "privacy.erase": "self-service",
    "privacy.download": "self-service",
    "registry_public.prove": "registry-proof",
    "auth.finish_registration": "account-register",
    "updates.unsubscribe": "unsubscribe",
}


def fill(rule, data: Data, *, signature_index: int = 2) -> list[str]:
    """Return the URLs of a rule with every parameter set to a real value of `data` (one per <any()> choice)."""
    # Built from the rule itself: url_for would pick another rule of the same endpoint.
    return [rule.build(c, append_unknown=False)[1] for c in arguments(rule, data, signature_index=signature_index)]


def arguments(rule, data: Data, *, signature_index: int = 2) -> list[dict]:
    """Return the parameter values `fill` uses, one dict per <any()> choice."""
    choices: list[dict] = [{}]
    for name in rule.arguments - set(rule.defaults or {}):
        converter = rule._converters[name]
        if isinstance(converter, AnyConverter):
            options = sorted(converter.items)
        else:
            options = [_value(rule, name, data, signature_index)]
        choices = [dict(c, **{name: option}) for c in choices for option in options]
    return choices


def choice_count(rule) -> int:
    """Return how many URLs `fill` makes of a rule (the product of its <any()> choices)."""
    count = 1
    for name in rule.arguments - set(rule.defaults or {}):
        converter = rule._converters[name]
        if isinstance(converter, AnyConverter):
            count *= len(converter.items)
    return count


def _value(rule, name: str, data: Data, signature_index: int):
    if name == "token":
        purpose = TOKEN_OF_ENDPOINT.get(rule.endpoint)
        assert purpose, f"no real token for {rule.rule} ({rule.endpoint}): add it to TOKEN_OF_ENDPOINT"
        return data.tokens[purpose]
    values = {
        "slug": data.slug, "pair_id": data.pair_id, "number": data.revision_number,
        "user_id": data.member_id, "signature_id": data.signature_ids[signature_index], "lang": data.language,
        "filename": data.pdf_filename or "none.pdf", "document_id": data.pdf_document_id or "0" * 32,
        "name": "DejaVuSans.ttf", "rest": "no/such/resource",
        "org_id": data.org_id, "domain_id": data.domain_id, "invitation_id": data.invitation_id,
        "position": 1, "delivery_id": data.delivery_id, "reply_id": data.reply_id,
        "token_id": data.api_token_id,
    }
    if rule.endpoint == "static" and name == "filename":
        return "style.css"
    assert name in values, f"no real value for <{name}> of {rule.rule}: add it to tests/security/_seed.py"
    return values[name]


def snapshot() -> dict[str, list[tuple]]:
    """Return every row of every table, to prove a refused request changed nothing."""
    db.session.expire_all()
    rows = {}
    with db.engine.connect() as connection:
        for table in db.metadata.sorted_tables:
            rows[table.name] = sorted(map(repr, connection.execute(select(table)).all()))
        rows["alembic_version"] = sorted(map(repr, connection.execute(text("SELECT * FROM alembic_version")).all()))
    return rows


def snapshot_of_appeal(appeal_id: int) -> dict[str, list[tuple]]:
    """Return the rows of every table that belong to one appeal."""
    db.session.expire_all()
    rows = {}
    with db.engine.connect() as connection:
        for table in db.metadata.sorted_tables:
            if "appeal_id" in table.c:
                query = select(table).where(table.c.appeal_id == appeal_id)
            elif table.name == "appeals":
                query = select(table).where(table.c.id == appeal_id)
            else:
                continue
            rows[table.name] = sorted(map(repr, connection.execute(query).all()))
    return rows


def changed(before: dict, after: dict) -> dict[str, tuple[set, set]]:
    """Return the tables whose rows differ: (removed, added)."""
    diff = {}
    for name in before.keys() | after.keys():
        old, new = set(before.get(name, [])), set(after.get(name, []))
        if old != new:
            diff[name] = (old - new, new - old)
    return diff


def module_app(tmp_path_factory, migrated_db, name: str, **overrides):
    """Return an app on its own copy of the migrated database, for a module of read-only tests."""
    folder = tmp_path_factory.mktemp(name)
    uri = copy_database(migrated_db, folder / "db.sqlite")
    app = create_app({**base_config(uri), **overrides})
    app.instance_path = str(folder / "instance")
    fresh_requests(app)
    return app


def route_rules(app, methods: set[str]):
    """Return every (rule, method) of the app with one of these methods, in a stable order."""
    out = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        for method in sorted((rule.methods or set()) & methods):
            out.append((rule, method))
    return out


def appeal_by_slug(slug: str) -> Appeal:
    return db.session.scalar(select(Appeal).where(Appeal.slug == slug))


@dataclass
class Seeded:
    """A seeded database (its URI), the config to open it with, and plain values (no ORM objects) to use."""

    config: dict
    instance_path: str
    template: str
    emails: dict[str, str]
    a: Data
    b: Data


def seed_template(tmp_path_factory, migrated_db, name: str) -> Seeded:
    """Seed two rich coalitions once; tests open copies of the file (see `open_copy`)."""
    app = module_app(tmp_path_factory, migrated_db, name)
    with app.app_context():
        world = build_world()
        a = enrich(world.appeal, world.owner, world.editor, "a", render_pdf=True)
        b = enrich(world.other_appeal, world.other_owner, world.other_owner, "b")
        emails = {"owner": world.owner.email, "other_owner": world.other_owner.email, "editor": world.editor.email,
                  "reviewer": world.reviewer.email, "outsider": world.outsider.email,
                  "newcomer": "newcomer-a@coalition.example"}
        db.session.remove()
        db.engine.dispose()
    return Seeded(dict(app.config), app.instance_path, app.config["SQLALCHEMY_DATABASE_URI"], emails, a, b)


def open_copy(seeded: Seeded, dest) -> flask.Flask:
    """Return an app on a fresh copy of the seeded database (same keys, same PDF files)."""
    uri = copy_database(seeded.template, dest)
    keys = ("SECRET_KEY", "EMAIL_HASH_KEY", "DATA_KEYS")
    app = create_app({**base_config(uri), **{k: seeded.config[k] for k in keys}})
    # A copy of the instance folder too: an allowed write may delete stored PDF files (erasure, pruning).
    instance = os.path.join(os.path.dirname(str(dest)), "instance")
    shutil.copytree(seeded.instance_path, instance, dirs_exist_ok=True)
    app.instance_path = instance
    fresh_requests(app)
    return app
