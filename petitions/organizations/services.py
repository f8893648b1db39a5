"""The organization registry: add organizations and domains, match typed affiliations to them."""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from rapidfuzz import fuzz
from sqlalchemy import select

from ..extensions import db
from ..signatures.dedupe import affiliation_key as _affiliation_key
from .models import Organization, OrganizationDomain

# A segment of the affiliation must be this close to a name or alias (rapidfuzz 0..100) to match.
MATCH_SCORE = 88
_SEGMENT_RE = re.compile(r"\s*(?:[,;/|()]|\s[-–—]\s|[–—])\s*")
_DOMAIN_RE = re.compile(r"^(?=.{4,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{1,62}$")
_FREE_MAIL_FILE = Path(__file__).with_name("free_mail_domains.txt")


class RegistryError(ValueError):
    """Refuse a registry change; the message says what to fix."""


@lru_cache(maxsize=1)
def free_mail_domains() -> frozenset[str]:
    """Return the free-mail domains of free_mail_domains.txt."""
    lines = _FREE_MAIL_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def _parents(domain: str) -> list[str]:
    """Return the domain and every parent of it: a.b.c → a.b.c, b.c, c."""
    parts = domain.split(".")
    return [".".join(parts[i:]) for i in range(len(parts))]


def is_free_mail(domain: str) -> bool:
    """Tell whether anyone can get an address at this domain (then it confirms nothing)."""
    return any(d in free_mail_domains() for d in _parents(domain.lower()))


def email_domain(email: str | None) -> str:
    """Return the lower-case domain of an address, or ''."""
    return (email or "").rpartition("@")[2].strip().lower().rstrip(".")


def normalize_domain(raw: str) -> str:
    """Return a domain as stored ("@Example.ORG " → "example.org") or raise RegistryError."""
    domain = (raw or "").strip().lower().lstrip("@").rstrip(".")
    if "@" in domain:
        domain = email_domain(domain)
    try:
        domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        raise RegistryError(f"“{raw}” is not a domain name.") from None
    if not _DOMAIN_RE.match(domain):
        raise RegistryError(f"“{raw}” is not a domain name like “bar-association.example”.")
    if is_free_mail(domain):
        raise RegistryError(f"{domain} is a free-mail provider: anyone can get an address there, "
                            "so it cannot confirm an affiliation.")
    return domain


def _clean_names(values: list[str]) -> list[str]:
    seen, out = set(), []
    for value in values:
        value = " ".join((value or "").split())
        if value and value.casefold() not in seen:
            seen.add(value.casefold())
            out.append(value[:300])
    return out


def add_organization(name: str, aliases: list[str] | None = None, domains: list[str] | None = None,
                     contact_name: str = "", contact_email: str = "", created_by=None) -> Organization:
    """Register an organization with its aliases, e-mail domains and contact."""
    names = _clean_names([name])
    if not names:
        raise RegistryError("An organization needs a name.")
    org = Organization(name=names[0], aliases=_clean_names(aliases or []), contact_name=contact_name.strip(),
                       contact_email=contact_email.strip().lower(),
                       created_by_id=created_by.id if created_by is not None else None)
    db.session.add(org)
    for raw in domains or []:
        if raw.strip():
            add_domain(org, raw)
    db.session.flush()
    return org


def add_domain(org: Organization, raw: str) -> OrganizationDomain:
    """Attach an e-mail domain to an organization; a domain belongs to one organization only."""
    domain = normalize_domain(raw)
    owner = db.session.scalar(select(OrganizationDomain).where(OrganizationDomain.domain == domain))
    if owner is not None:
        if owner.organization_id == org.id:
            return owner
        raise RegistryError(f"{domain} already belongs to {owner.organization.name}.")
    entry = OrganizationDomain(organization=org, domain=domain)
    db.session.add(entry)
    return entry


def organization_for_domain(domain: str) -> Organization | None:
    """Return the organization that owns this domain or one of its parents (law.uni.example → uni.example)."""
    if not domain or is_free_mail(domain):
        return None
    return db.session.scalar(
        select(Organization).join(OrganizationDomain).where(OrganizationDomain.domain.in_(_parents(domain)))
        .order_by(db.func.length(OrganizationDomain.domain).desc()).limit(1)
    )


def all_organizations() -> list[Organization]:
    """Return the registry in name order."""
    return list(db.session.scalars(select(Organization).order_by(Organization.name)))


class Matcher:
    """Match typed affiliations to registry entries; build once per request or import."""

    def __init__(self, organizations: list[Organization]):
        self._keys: list[tuple[str, int]] = []
        for org in organizations:
            for label in [org.name, *(org.aliases or [])]:
                key = _affiliation_key(label)
                if key:
                    self._keys.append((key, org.id))

    def score(self, affiliation: str, org_id: int) -> float:
        """Return how well the affiliation names this organization, 0..100."""
        return max((s for s, oid in self._scores(affiliation) if oid == org_id), default=0.0)

    def _scores(self, affiliation: str) -> list[tuple[float, int]]:
        segments = [_affiliation_key(s) for s in _SEGMENT_RE.split(affiliation or "")]
        segments = [s for s in segments if s]
        whole = _affiliation_key(affiliation or "")
        out = []
        for key, org_id in self._keys:
            best = max((fuzz.ratio(key, seg) for seg in segments), default=0.0)
            # "Lawyer, Member of the Bar Association" names "Bar Association": every word of it appears.
            if whole and key.count(" ") >= 1:
                best = max(best, fuzz.token_set_ratio(key, whole) if set(key.split()) <= set(whole.split())
                           else 0.0)
            out.append((best, org_id))
        return out

    def match(self, affiliation: str) -> int | None:
        """Return the id of the one organization the affiliation names, or None (no match or a tie)."""
        best: dict[int, float] = {}
        for score, org_id in self._scores(affiliation):
            if score >= MATCH_SCORE:
                best[org_id] = max(best.get(org_id, 0.0), score)
        if not best:
            return None
        ranked = sorted(best.items(), key=lambda kv: -kv[1])
        if len(ranked) > 1 and ranked[1][1] == ranked[0][1]:
            return None  # two organizations fit equally well: let a person decide
        return ranked[0][0]


def match_organization(affiliation: str) -> Organization | None:
    """Return the registered organization a typed affiliation names, if exactly one fits."""
    if not (affiliation or "").strip():
        return None
    org_id = Matcher(all_organizations()).match(affiliation)
    return db.session.get(Organization, org_id) if org_id is not None else None
