"""The organization registry: owned entries, proven domains and contacts, matching typed affiliations."""
from __future__ import annotations

import re
import time
from functools import lru_cache
from pathlib import Path

import idna
from email_validator import EmailNotValidError, validate_email
from flask import current_app, render_template
from flask_babel import gettext as _
from flask_mail import Message
from rapidfuzz import fuzz, process
from sqlalchemy import String, or_, select, type_coerce
from sqlalchemy.engine import URL

from petitions import links as tokens
from petitions.links import PROOF
from petitions.appeals.models import Appeal
from petitions.extensions import db
from petitions.mail import sending
from petitions.members.access import PERMISSIONS
from petitions.members.models import AppealMember
from petitions.registry.models import Organization, OrganizationDomain
from petitions.signatories.dedupe import affiliation_key as _affiliation_key
from petitions.urls import external_url

# A segment of the affiliation must be this close to a name or alias (rapidfuzz 0..100) to match.
MATCH_SCORE = 88
_SEGMENT_RE = re.compile(r"\s*(?:[,;/|()]|\s[-–—]\s|[–—])\s*")
_DOMAIN_RE = re.compile(r"^(?=.{4,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{1,62}$")
_FREE_MAIL_FILE = Path(__file__).with_name("free_mail_domains.txt")


class RegistryError(ValueError):
    """Refuse a registry change; the message says what to fix."""


class NotYourEntry(RegistryError):
    """Refuse a change to an entry another organizer registered; the message names whom to ask."""


@lru_cache(maxsize=1)
def free_mail_domains() -> frozenset[str]:
    """Return the free-mail domains of free_mail_domains.txt."""
    lines = _FREE_MAIL_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(canonical_domain(line) or line.strip().lower()
                     for line in lines if line.strip() and not line.startswith("#"))


@lru_cache(maxsize=4096)  # IDNA mapping costs as much as a statement; a wave signs from a few domains
def canonical_domain(raw: str | None) -> str:
    """Return the one spelling of a domain used for every comparison (ASCII, lower case, no final dot), or ''."""
    domain = (raw or "").strip().rstrip(".。．｡").strip()
    if not domain:
        return ""
    try:
        # IDNA 2008 with UTS 46 mapping, as mail servers resolve it: case, full-width dots, "ß" all settled here.
        domain = idna.encode(domain, uts46=True, transitional=False).decode("ascii")
    except (idna.IDNAError, UnicodeError, ValueError):
        return ""
    return domain.lower().rstrip(".")


def _parents(domain: str) -> list[str]:
    """Return the domain and every parent of it: a.b.c → a.b.c, b.c, c."""
    parts = domain.split(".")
    return [".".join(parts[i:]) for i in range(len(parts))]


def is_free_mail(domain: str) -> bool:
    """Tell whether anyone can get an address at this domain (then it confirms nothing)."""
    domain = canonical_domain(domain) or (domain or "").lower()
    return any(d in free_mail_domains() for d in _parents(domain))


def email_domain(email: str | None) -> str:
    """Return the canonical domain of an address, or ''."""
    return canonical_domain((email or "").rpartition("@")[2])


def normalize_domain(raw: str) -> str:
    """Return a domain as stored ("@Example.ORG " → "example.org") or raise RegistryError."""
    text = (raw or "").strip().lstrip("@")
    domain = email_domain(text) if "@" in text else canonical_domain(text)
    if not domain or not _DOMAIN_RE.match(domain):
        raise RegistryError(_("“%(raw)s” is not a domain name like “bar-association.example”.", raw=raw))
    if is_free_mail(domain):
        raise RegistryError(_("%(domain)s is a free-mail provider: anyone can get an address there, "
                              "so it cannot confirm an affiliation.", domain=domain))
    return domain


def _clean_names(values: list[str]) -> list[str]:
    seen, out = set(), []
    for value in values:
        value = " ".join((value or "").split())
        if value and value.casefold() not in seen:
            seen.add(value.casefold())
            out.append(value[:300])
    return out


def require_editor(org: Organization, user) -> None:
    """Refuse unless the user registered this entry (by=None: an administrators' entry); name whom to ask."""
    if org.may_edit(user) or (user is None and org.created_by_id is None):
        return
    if org.created_by is None:
        raise NotYourEntry(_("“%(name)s” is kept by the administrators of this site; ask them to change it, "
                             "or register the organization yourself.", name=org.name))
    raise NotYourEntry(_("“%(name)s” is managed by %(owner)s. Ask them to change it, or register the "
                         "organization yourself: your own entries confirm signatures on your appeals.",
                         name=org.name, owner=org.created_by.name or _("another organizer")))


def add_organization(name: str, aliases: list[str] | None = None, domains: list[str] | None = None,
                     contact_name: str = "", contact_email: str = "", created_by=None) -> Organization:
    """Register an organization; its domains and contact confirm nothing until proven."""
    names = _clean_names([name])
    if not names:
        raise RegistryError(_("An organization needs a name."))
    org = Organization(name=names[0], aliases=_clean_names(aliases or []), contact_name="", contact_email="",
                       created_by_id=created_by.id if created_by is not None else None)
    org.set_contact(contact_name, contact_email)
    db.session.add(org)
    for raw in domains or []:
        if raw.strip():
            _attach_domain(org, raw)
    db.session.flush()
    return org


def add_domain(org: Organization, raw: str, by=None) -> OrganizationDomain:
    """Claim an e-mail domain for an entry the user registered (by=None: the administrators', e.g. from the CLI)."""
    require_editor(org, by)
    return _attach_domain(org, raw)


def _attach_domain(org: Organization, raw: str) -> OrganizationDomain:
    domain = normalize_domain(raw)
    for entry in org.domains:
        if entry.domain == domain:
            return entry
    # Other organizers' claims of the same domain do not matter: each entry proves its own.
    entry = OrganizationDomain(organization=org, domain=domain)
    db.session.add(entry)
    return entry


def remove_domain(entry: OrganizationDomain, by) -> Organization:
    """Take a domain off an entry the user registered; the caller re-derives the levels it gave."""
    org = entry.organization
    require_editor(org, by)
    org.domains.remove(entry)
    db.session.flush()
    return org


def set_contact(org: Organization, name: str, email: str, by) -> None:
    """Change the contact of an entry the user registered; a new address must be proven again."""
    require_editor(org, by)
    org.set_contact(name, email)


def _trusted(appeal):
    roles = [role for role, actions in PERMISSIONS.items() if "moderate" in actions]
    team = select(AppealMember.user_id).where(AppealMember.appeal_id == appeal.id, AppealMember.role.in_(roles))
    # Anyone may register "Ministry of Justice" with an address or domain they control and prove it:
    # only the people responsible for this appeal decide which entries speak for it.
    return or_(Organization.created_by_id.is_(None), Organization.created_by_id == appeal.owner_id,
               Organization.created_by_id.in_(team))


def trusted_ids(appeal) -> list[int]:
    """Return the entries that may confirm signatures on this appeal: its moderators' and the administrators'."""
    return list(db.session.scalars(select(Organization.id).where(_trusted(appeal))))


def trusts(appeal, org: Organization) -> bool:
    """Tell whether this entry may confirm signatures on this appeal."""
    return org.id in trusted_ids(appeal)


def appeals_trusting(org: Organization) -> list:
    """Return the appeals on which this entry may confirm signatures."""
    if org.created_by_id is None:
        return list(db.session.scalars(select(Appeal)))
    roles = [role for role, actions in PERMISSIONS.items() if "moderate" in actions]
    member_of = select(AppealMember.appeal_id).where(AppealMember.user_id == org.created_by_id,
                                                     AppealMember.role.in_(roles))
    return list(db.session.scalars(select(Appeal).where(
        (Appeal.owner_id == org.created_by_id) | Appeal.id.in_(member_of))))


def proven_holder(domain: str, org_ids: list[int]) -> int | None:
    """Return the one entry among org_ids with the longest proven domain that is or contains this one."""
    domain = canonical_domain(domain)
    if not domain or is_free_mail(domain) or not org_ids:
        return None
    # The domain's few proven rows, then the trusted among them here: an IN of every trusted id made a statement
    # too long for psycopg to keep converted, and a confirmation with 300 entries cost twice one with none.
    trusted = set(org_ids)
    rows = [(d, oid) for d, oid in db.session.execute(
        select(OrganizationDomain.domain, OrganizationDomain.organization_id).where(
            OrganizationDomain.domain.in_(_parents(domain)), OrganizationDomain.proven_at.is_not(None)))
            if oid in trusted]
    if not rows:
        return None
    longest = max(len(d) for d, _ in rows)
    holders = {oid for d, oid in rows if len(d) == longest}
    return holders.pop() if len(holders) == 1 else None  # two entries proved it: neither confirms alone


def all_organizations() -> list[Organization]:
    """Return the registry in name order."""
    return list(db.session.scalars(select(Organization).order_by(Organization.name)))


def _proof_token(kind: str, row_id: int, value: str, nonce: str) -> str:
    return tokens.make_token(PROOF, {"k": kind, "id": row_id, "v": value, "n": nonce})


def domain_proof_token(entry: OrganizationDomain) -> str:
    """Return the token of the pending proof link of a domain entry."""
    return _proof_token("domain", entry.id, entry.domain, entry.proof_nonce or "")


def request_domain_proof(entry: OrganizationDomain, address: str, by) -> str:
    """Mail a proof link to an address at the domain; return the address it went to."""
    org = entry.organization
    require_editor(org, by)
    try:
        parsed = validate_email((address or "").strip().rstrip(".。．｡"), check_deliverability=False,
                                allow_smtputf8=False)
    except EmailNotValidError:
        parsed = None
    if parsed is None or canonical_domain(parsed.ascii_domain) != entry.domain:
        raise RegistryError(_("Give an address at %(domain)s itself, e.g. “secretariat@%(domain)s”: only "
                              "someone who receives mail there can prove the domain.", domain=entry.domain))
    # The mail goes to the stored ASCII spelling, never to a look-alike the organizer typed.
    recipient = f"{parsed.local_part}@{entry.domain}"
    entry.new_proof()
    link = external_url("registry_public.prove", token=domain_proof_token(entry))
    body = render_template("mail/org_domain_proof.txt", org=org, domain=entry.domain, link=link,
                           requester=by, days=_max_age() // 86400)
    sending.queue(Message(subject=_("Does %(domain)s belong to %(name)s?", domain=entry.domain, name=org.name),
                          recipients=[recipient], body=body), kind="org_domain_proof")
    return recipient


def request_contact_proof(org: Organization, by) -> str:
    """Mail a proof link to the entry's contact address; return the address."""
    require_editor(org, by)
    if not org.contact_email:
        raise RegistryError(_("Add a contact address first."))
    org.new_contact_proof()
    link = external_url("registry_public.prove", token=_proof_token("contact", org.id, org.contact_email,
                                                                   org.contact_proof_nonce))
    body = render_template("mail/org_contact_proof.txt", org=org, link=link, requester=by,
                           days=_max_age() // 86400)
    sending.queue(Message(subject=_("Are you the contact of %(name)s?", name=org.name),
                          recipients=[org.contact_email], body=body), kind="org_contact_proof")
    return org.contact_email


def dispute_domain(entry: OrganizationDomain, by, note: str = "") -> None:
    """Tell the owner of another organizer's entry that this domain is someone else's; change nothing."""
    org = entry.organization
    if org.may_edit(by):
        raise RegistryError(_("This is your own entry: remove the domain instead."))
    if org.created_by is None:
        raise NotYourEntry(_("“%(name)s” is kept by the administrators of this site; write to them.",
                             name=org.name))
    # The claim changes nothing by itself: whoever proves the domain in their own entry is never blocked.
    body = render_template("mail/org_dispute.txt", org=org, domain=entry.domain, by=by,
                           note=" ".join((note or "").split())[:500])
    sending.queue(Message(subject=_("%(domain)s in your entry “%(name)s” is disputed", domain=entry.domain,
                                    name=org.name), recipients=[org.created_by.email], reply_to=by.email,
                          body=body), kind="org_dispute")


def _max_age() -> int:
    return current_app.config["REGISTRY_PROOF_MAX_AGE"]


def proof_for(token: str) -> tuple[str, Organization, OrganizationDomain | None]:
    """Return (kind, organization, domain entry or None) of a pending proof link, or raise TokenError."""
    try:
        payload = tokens.read_token(PROOF, token, _max_age())
    except tokens.TokenError as exc:
        if exc.expired:
            raise tokens.TokenError(_("This link has expired. Ask the organizer to send a new one."),
                                    expired=True) from None
        raise
    kind, row_id, value, nonce = (payload.get(k) for k in ("k", "id", "v", "n"))
    invalid = tokens.TokenError(_("This link is not valid any more: it was used already, a newer one was "
                                  "sent, or the entry changed. Ask the organizer for a new one."))
    if not isinstance(row_id, int) or not isinstance(nonce, str) or not nonce:
        raise invalid
    if kind == "domain":
        entry = db.session.get(OrganizationDomain, row_id)
        if entry is None or entry.domain != value or entry.proof_nonce != nonce:
            raise invalid
        return kind, entry.organization, entry
    if kind == "contact":
        org = db.session.get(Organization, row_id)
        if org is None or org.contact_email != value or org.contact_proof_nonce != nonce:
            raise invalid
        return kind, org, None
    raise invalid


def prove(token: str) -> Organization:
    """Record the proof a link stands for (only once); the caller re-derives levels."""
    kind, org, entry = proof_for(token)
    if entry is not None:
        entry.prove()
    else:
        org.prove_contact()
    return org


def _label_keys(name: str, aliases: list | None) -> list[str]:
    return [key for key in (_affiliation_key(label) for label in [name, *(aliases or [])]) if key]


# The matcher's keys of each entry by (database, id), with the stamps (created, changed) they were read at:
# a signature then reads only the trusted ids and their stamps, not every name and alias of the registry.
_KEYS: dict[tuple[URL, int], tuple[tuple, list[str]]] = {}
# Compared, never shown: read as the driver gives them (SQLite's text), without parsing 2 dates per entry.
_STAMPS = (type_coerce(Organization.created_at, String), type_coerce(Organization.updated_at, String))


def trusted_matcher(appeal) -> "Matcher":
    """Return a matcher over the entries that may confirm signatures on this appeal, from keys cached per process."""
    database = db.engine.url  # the URL object: rendering it as text was a tenth of describing a signature
    # A burst of signatures reads the trusted set once per few seconds, not per signature, and takes the matcher
    # kept with it: checking each entry's keys per signature was a fifth of a sign request with 300 entries. Being
    # late is safe: a confirmation checks trust again (levels.level_for), and recheck() applies a new entry to the
    # signatures already made.
    fresh = current_app.config["REGISTRY_FRESH_SECONDS"]
    key, now = (database, appeal.id), time.monotonic()
    kept = _TRUSTED.get(key)
    if fresh and kept is not None and now - kept[0] < fresh:
        return kept[2]
    rows = tuple(tuple(row) for row in db.session.execute(
        select(Organization.id, *_STAMPS).where(_trusted(appeal)).order_by(Organization.id)))
    if kept is not None and kept[1] == rows:  # the same entries with the same stamps: the same keys
        matcher = kept[2]
    else:
        stale = [oid for oid, *stamps in rows if _KEYS.get((database, oid), (None,))[0] != tuple(stamps)]
        for start in range(0, len(stale), 500):
            for oid, name, aliases, *stamps in db.session.execute(
                    select(Organization.id, Organization.name, Organization.aliases, *_STAMPS)
                    .where(Organization.id.in_(stale[start:start + 500]))):
                _KEYS[(database, oid)] = (tuple(stamps), _label_keys(name, aliases))
        matcher = _matcher_of(database, rows)
    if len(_TRUSTED) > 1024:
        _TRUSTED.clear()
    _TRUSTED[key] = (now, rows, matcher)
    return matcher


# (database, appeal id) -> (when read, the trusted entries' ids and stamps, their matcher).
_TRUSTED: dict[tuple[URL, int], tuple[float, tuple, "Matcher"]] = {}


@lru_cache(maxsize=64)
def _matcher_of(database: URL, rows: tuple) -> "Matcher":
    # One matcher per trusted set as of its stamps: a burst of signatures on one appeal builds it once.
    return Matcher.of_keys([(key, oid) for oid, *_ in rows for key in _KEYS.get((database, oid), ((), []))[1]])


class Matcher:
    """Match typed affiliations to registry entries; build once per request or import."""

    def __init__(self, organizations: list[Organization]):
        self._use([(key, org.id) for org in organizations for key in _label_keys(org.name, org.aliases)])

    @classmethod
    def of_keys(cls, keys: list[tuple[str, int]]) -> "Matcher":
        """Return a matcher over (key, organization id) pairs already computed."""
        matcher = cls([])
        matcher._use(keys)
        return matcher

    def _use(self, keys: list[tuple[str, int]]) -> None:
        self._texts = [key for key, _ in keys]
        self._ids = [org_id for _, org_id in keys]
        # Only names of several words can be found among the words of a longer affiliation.
        self._phrases = [(i, frozenset(key.split())) for i, key in enumerate(self._texts) if " " in key]

    def _scores(self, affiliation: str) -> list[tuple[float, int]]:
        """Return (score, organization id) of every key that comes within MATCH_SCORE of the affiliation."""
        segments = [s for s in (_affiliation_key(s) for s in _SEGMENT_RE.split(affiliation or "")) if s]
        # One C loop per segment over every key, keeping only those that come close enough.
        out = [(score, self._ids[i]) for seg in segments for _, score, i in process.extract(
            seg, self._texts, scorer=fuzz.ratio, score_cutoff=MATCH_SCORE, limit=None)]
        whole = _affiliation_key(affiliation or "")
        words = set(whole.split())
        # "Lawyer, Member of the Bar Association" names "Bar Association": every word of it appears.
        for i, phrase in self._phrases:
            if phrase <= words:
                score = fuzz.token_set_ratio(self._texts[i], whole)
                if score >= MATCH_SCORE:
                    out.append((score, self._ids[i]))
        return out

    def match(self, affiliation: str) -> int | None:
        """Return the id of the one organization the affiliation names, or None (no match or a tie)."""
        best: dict[int, float] = {}
        for score, org_id in self._scores(affiliation):
            best[org_id] = max(best.get(org_id, 0.0), score)
        if not best:
            return None
        ranked = sorted(best.items(), key=lambda kv: -kv[1])
        if len(ranked) > 1 and ranked[1][1] == ranked[0][1]:
            return None  # two organizations fit equally well: let a person decide
        return ranked[0][0]


def match_organization(affiliation: str, organizations: list[Organization] | None = None) -> Organization | None:
    """Return the registered organization a typed affiliation names, if exactly one fits."""
    if not (affiliation or "").strip():
        return None
    org_id = Matcher(all_organizations() if organizations is None else organizations).match(affiliation)
    return db.session.get(Organization, org_id) if org_id is not None else None
