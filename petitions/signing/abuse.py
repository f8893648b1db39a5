"""Anti-abuse for signing without third parties: the honeypot, the per-domain limit and its allowances."""
import hashlib
import hmac
import logging
import math
import time
from collections import OrderedDict
from datetime import datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from limits import RateLimitItemPerHour
from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint, delete, select
from sqlalchemy.orm import Mapped, mapped_column

from petitions import audit
from petitions.extensions import db, utcnow
from petitions.privacy.minimize import period_key
from petitions.ratelimit import limiter
from petitions.registry.services import RegistryError, canonical_domain, email_domain, is_free_mail, normalize_domain

log = logging.getLogger(__name__)

# The honeypot field of the sign form: people never see it, form-filling scripts fill it in.
HONEYPOT_FIELD = "website"
ALLOWANCE_MAX = 100_000  # signatures per window an organizer may allow one domain


class SignLimitExceeded(Exception):
    """Too many signatures from one e-mail domain for this appeal in the current window."""

    def __init__(self, retry_after: int):
        super().__init__(f"sign limit exceeded, retry after {retry_after} s")
        self.retry_after = retry_after


class AllowanceError(ValueError):
    """A domain allowance an organizer cannot set (not a domain, a free-mail provider, a bad number)."""


class DomainAllowance(db.Model):
    """A higher per-domain signing limit an organizer set for an expected institution on one appeal."""

    __tablename__ = "sign_domain_allowances"
    __table_args__ = (UniqueConstraint("appeal_id", "domain", name="uq_sign_domain_allowances_appeal_domain"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    appeal_id: Mapped[int] = mapped_column(ForeignKey("appeals.id", ondelete="CASCADE"), index=True)
    domain: Mapped[str] = mapped_column(String(253))
    # Signatures per hour, instead of SIGN_DOMAIN_LIMIT when higher.
    per_window: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


def honeypot_filled(value: str | None, appeal) -> bool:
    """Tell whether a submission filled the honeypot, logging it without anything personal."""
    if not (value or "").strip():
        return False
    log.info("sign: honeypot filled, submission dropped (appeal %s)", appeal.id)
    return True


def check_signer(appeal, email: str) -> None:
    """Count one signing attempt for the address's domain on this appeal; raise SignLimitExceeded when over.

    Repeated signing with one address needs nothing here: operations.sign mails an address at most once per
    RESEND_MIN_INTERVAL. Free-mail domains are exempt: one budget for everyone at gmail.com would let a script
    lock out every ordinary signer, and each of their addresses costs an account (the per-client limit applies).
    """
    if not (current_app.config.get("RATELIMIT_ENABLED", True) and limiter.enabled):
        return
    domain = email_domain(email)
    if not domain or is_free_mail(domain):
        return
    item = domain_limit(appeal, domain)
    key = domain_key(domain)
    try:
        if limiter.limiter.hit(item, "sign-domain", str(appeal.id), key):
            return
        reset_at = limiter.limiter.get_window_stats(item, "sign-domain", str(appeal.id), key).reset_time
    except Exception:  # the limiter's storage (Redis) is down: a signer never gets a 500 for it
        log.warning("sign: the domain limit could not be counted", exc_info=True)
        return
    log.info("sign: domain limit reached (appeal %s)", appeal.id)
    raise SignLimitExceeded(max(1, math.ceil(reset_at - time.time())))


def domain_key(domain: str) -> str:
    """Key a domain's counter by a keyed hash that changes monthly, never the plain domain."""
    return hmac.new(period_key(), b"sign-domain:" + domain.encode(), hashlib.sha256).hexdigest()[:32]


def domain_limit(appeal, domain: str):
    """Return the limit for this domain on this appeal: the site's, or the organizer's higher allowance."""
    amount = current_app.config["SIGN_DOMAIN_LIMIT"]
    # An allowance for a parent domain covers its subdomains (staff.uni.example under uni.example).
    parents = [".".join(domain.split(".")[i:]) for i in range(domain.count("."))] or [domain]
    granted = _allowances_of(appeal)
    return RateLimitItemPerHour(max([amount, *(granted[p] for p in parents if p in granted)]))


_ALLOWANCES: OrderedDict[tuple, dict[str, int]] = OrderedDict()  # (database, appeal id, updated_at) -> allowances


def _allowances_of(appeal) -> dict[str, int]:
    # Read once per appeal and change of its settings (allow_domain and remove_allowance move updated_at), not
    # once per signature: a sign request does not query the table.
    key = (db.engine.url, appeal.id, appeal.updated_at)  # the URL object: rendering it as text costs more
    found = _ALLOWANCES.get(key)
    if found is None:
        found = dict(db.session.execute(select(DomainAllowance.domain, DomainAllowance.per_window)
                                        .where(DomainAllowance.appeal_id == appeal.id)).all())
        _ALLOWANCES[key] = found
        while len(_ALLOWANCES) > 256:
            _ALLOWANCES.popitem(last=False)
    return found


def allowances(appeal) -> list[DomainAllowance]:
    """Return an appeal's domain allowances, by domain."""
    return list(db.session.scalars(select(DomainAllowance).where(DomainAllowance.appeal_id == appeal.id)
                                   .order_by(DomainAllowance.domain)))


def allowance_domain(raw: str) -> str:
    """Return the canonical domain an organizer typed, or raise AllowanceError saying what is wrong."""
    domain = canonical_domain((raw or "").strip().lstrip("@").rpartition("@")[2])
    if domain and is_free_mail(domain):
        raise AllowanceError(_l("%(domain)s is a free-mail provider: it has no domain limit to raise.",
                                domain=domain))
    try:
        return normalize_domain(domain or raw)
    except RegistryError as exc:
        raise AllowanceError(str(exc)) from None


def allow_domain(appeal, raw_domain: str, per_window: int, by) -> DomainAllowance:
    """Set (or change) the allowance of a domain on an appeal, audited."""
    domain = allowance_domain(raw_domain)
    if not 1 <= per_window <= ALLOWANCE_MAX:
        raise AllowanceError(_l("Enter a number from 1 to %(max)d.", max=ALLOWANCE_MAX))
    row = db.session.scalar(select(DomainAllowance).where(DomainAllowance.appeal_id == appeal.id,
                                                          DomainAllowance.domain == domain))
    if row is None:
        row = DomainAllowance(appeal_id=appeal.id, domain=domain, per_window=per_window)
        db.session.add(row)
    before, row.per_window = row.per_window, per_window
    appeal.updated_at = utcnow()  # a setting of the appeal: every process reads its allowances again
    audit.record("appeal.domain_allowance", appeal, actor=by, domain=domain, per_window=per_window, before=before)
    return row


def remove_allowance(appeal, domain: str, by) -> bool:
    """Remove a domain's allowance from an appeal, audited; tell whether there was one."""
    removed = db.session.execute(delete(DomainAllowance).where(DomainAllowance.appeal_id == appeal.id,
                                                               DomainAllowance.domain == domain)).rowcount
    if removed:
        appeal.updated_at = utcnow()
        audit.record("appeal.domain_allowance_removed", appeal, actor=by, domain=domain)
    return bool(removed)
