"""Built-in defaults; instance/config.py and FLASK_* environment variables override them."""
from datetime import timedelta


class Defaults:
    """Hold settings that are safe in every deployment."""

    # No SECRET_KEY here on purpose: create_app refuses to start without one.
    SQLALCHEMY_DATABASE_URI = None  # filled in as instance/petitions.sqlite
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    # SQLite (petitions/extensions.py: WAL, foreign keys, writers take the lock at BEGIN): how long a writer
    # waits for another one's commit before "database is locked", and the sync level (NORMAL is safe in WAL:
    # a power cut can lose the last commits, never corrupt the file).
    SQLITE_BUSY_TIMEOUT_MS = 5000
    SQLITE_SYNCHRONOUS = "NORMAL"

    # Public URL used in links when there is no request (CLI, background jobs).
    PUBLIC_URL = "http://127.0.0.1:5000"

    MAIL_SERVER = "localhost"
    MAIL_PORT = 25
    MAIL_USE_TLS = False
    MAIL_USE_SSL = False
    MAIL_USERNAME = None
    MAIL_PASSWORD = None
    MAIL_DEFAULT_SENDER = "Petitions <petitions@localhost>"
    # "smtp" sends through Flask-Mail; "outbox" stores messages as files for the dev outbox page.
    MAIL_TRANSPORT = "smtp"
    DEV_OUTBOX = False

    CONFIRM_TOKEN_MAX_AGE = int(timedelta(days=7).total_seconds())
    # Signatory verification (issue 4): withdrawal links, re-sent confirmations, reminders.
    WITHDRAW_TOKEN_MAX_AGE = int(timedelta(days=5 * 365).total_seconds())
    # An update may come years after signing; its unsubscribe link must still work then.
    UNSUBSCRIBE_TOKEN_MAX_AGE = int(timedelta(days=5 * 365).total_seconds())
    RESEND_RATE_LIMIT = "5 per hour"
    RESEND_MIN_INTERVAL = int(timedelta(minutes=10).total_seconds())
    REMIND_INTERVAL_DAYS = 7

    # Signatories' e-mails are encrypted at rest (first key encrypts, all decrypt: rotation)
    # and hashed with a separate key for uniqueness; both come from instance/config.py.
    DATA_KEYS: list[str] = []
    EMAIL_HASH_KEY = None

    BODY_MAX_CHARS = 50_000
    TITLE_MAX_CHARS = 300
    MAX_CONTENT_LENGTH = 2 * 1024 * 1024

    REGISTRATION_OPEN = True
    PASSWORD_HASH_METHOD = "scrypt"  # werkzeug's default; tests use a cheap one
    BABEL_DEFAULT_LOCALE = "en"

    RATELIMIT_STORAGE_URI = "memory://"
    # No X-RateLimit headers: they cost two reads of the limiter's storage (Redis) per request; a 429 says
    # Retry-After (petitions/errors.py, api/errors.py).
    RATELIMIT_HEADERS_ENABLED = False
    SIGN_RATE_LIMIT = "20 per hour"
    # Anti-abuse of the sign form (petitions/signing/abuse.py): the fewest seconds between showing the form and
    # its submit (0: no check), how long a shown form stays valid, and signatures per hour per e-mail domain per
    # appeal (free mail exempt; organizers raise it per domain).
    SIGN_MIN_SECONDS = 3
    SIGN_FORM_MAX_AGE = int(timedelta(days=2).total_seconds())
    SIGN_DOMAIN_LIMIT = 50
    LOGIN_RATE_LIMIT = "10 per minute"

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session

    INVITATION_MAX_AGE = int(timedelta(days=14).total_seconds())
    RECONFIRM_TOKEN_MAX_AGE = int(timedelta(days=30).total_seconds())
    # Signatory safety (petitions/privacy/, petitions/security.py, petitions/api/); see README.
    CONSENT_VERSION = "2026-1"  # change it whenever the privacy notice changes; stored with each signature
    PRIVACY_OPERATOR = ""  # who runs this deployment, shown in the privacy notice
    PRIVACY_CONTACT = ""  # where signers write about their data
    UNCONFIRMED_EXPIRE_DAYS = 14  # pending signatures are purged this long after their last mail
    EMAIL_RETENTION_DAYS = 30  # signers' addresses are erased this long after delivery or closing
    CLIENT_HASH_RETENTION_DAYS = 31  # the keyed client hash (abuse review) is cleared after this
    # Outbox retention (issue 12, `flask purge`): a sent or failed mail keeps its row (the organizers' counts)
    # but loses its recipients, its stored copy and its server reply beyond the code after this many days.
    OUTBOX_RETENTION_DAYS = 30
    SELF_SERVICE_TOKEN_MAX_AGE = int(timedelta(days=2).total_seconds())
    SELF_SERVICE_RATE_LIMIT = "5 per hour"
    API_RATE_LIMIT = "600 per hour"
    API_IMPORT_RATE_LIMIT = "600 per hour"  # signatures one client submits with an import token
    API_MAX_BODY_BYTES = 16 * 1024  # a signature is a few hundred bytes
    REGISTRY_PROOF_MAX_AGE = int(timedelta(days=7).total_seconds())  # links proving a domain or contact
    REGISTRY_PROOF_RATE_LIMIT = "10 per hour"  # proof mails one organizer may have sent
    HSTS_MAX_AGE = int(timedelta(days=365).total_seconds())
    EMBED_FRAME_ANCESTORS = "*"  # who may frame /a/<slug>/embed; every other page refuses framing
    SESSION_COOKIE_SECURE = None  # None: secure cookies whenever PUBLIC_URL is https
    REMEMBER_COOKIE_SECURE = None
    REMEMBER_COOKIE_SAMESITE = "Lax"

    # Stored PDFs (petitions/pdf/jobs.py): how many versions of each kind keep their file after a render or
    # `flask pdf prune`, and how long a render scheduled by a confirmation or an erasure waits to gather more.
    PDF_KEEP_VERSIONS = 3
    PDF_CHUNK_KEEP_DAYS = 7  # cached list chunks no render used this long are deleted by the daily `pdf.prune` job
    PDF_RENDER_DEBOUNCE_SECONDS = 30
    # Where renders run: "thread" (in the web process), "inline" (in the request) or "worker" (`flask pdf work`).
    PDF_EXECUTOR = "thread"
    PDF_WORKERS = 2  # processes that typeset a large list's chunks in parallel
    PDF_SYNC_MAX = 3000  # up to this many confirmed signatures, a download renders in the request
    PDF_JOB_STALE_SECONDS = 300  # a running job silent this long is marked failed (its runner died)
    PDF_WORKER_POLL = 2.0  # seconds `flask pdf work` waits between looks at the queue
    PDF_VERIFY_MAX_BYTES = 64 * 1024 * 1024  # the largest upload /verify checks
    PDF_SIGNER_NAME = "Petitions document signing"  # the common name of the self-signed signing certificate
    # Folders of the cache, the stored files and the signing key; None: pdf-cache/, pdf-files/, pdf-keys/ in
    # the instance folder.
    PDF_CACHE_DIR = None
    PDF_FILES_DIR = None
    PDF_KEYS_DIR = None

    # Delivery to addressees (petitions/delivery/): the most a cover mail may attach (the signed PDF and its
    # language versions together), and the largest reply file an organizer may keep with a delivery.
    DELIVERY_MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
    DELIVERY_MAX_REPLY_BYTES = 1024 * 1024

    # Languages (petitions/i18n/__init__.py): interface languages with a catalog, where the catalogs live.
    LANGUAGES = ["en", "fr", "de", "ru", "az", "tr", "hy"]
    BABEL_TRANSLATION_DIRECTORIES = "i18n_catalogs"

    # Sessions, accounts and rate limits (issue 11; docs/security.md).
    REGISTER_RATE_LIMIT = "5 per hour"  # registration requests and completions per client
    REGISTER_TOKEN_MAX_AGE = int(timedelta(hours=24).total_seconds())  # life of the link that finishes registration
    # Rate-limit counters must be shared by every worker process: use redis://host:6379/0 in production
    # (memory:// counts per process, so gunicorn -w 3 would allow three times the limit).
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True  # Redis down: count in memory rather than refuse requests
    RATELIMIT_SWALLOW_ERRORS = True  # a storage error never turns a request into a 500
    # Proxies in front of the app whose X-Forwarded-For/-Proto entries are trusted (0: none; the client's
    # address is the connection's). Set it to the number of reverse proxies, or every client shares a bucket.
    PROXY_FIX_X_FOR = 0
    PROXY_FIX_X_PROTO = 0
    # Issue 16 (hot paths): the rest of werkzeug's ProxyFix, each the number of proxies trusted to set that header
    # (0: ignored). Links never follow X-Forwarded-Host (they use PUBLIC_URL); X_PREFIX mounts the app under a path.
    PROXY_FIX_X_HOST = 0
    PROXY_FIX_X_PORT = 0
    PROXY_FIX_X_PREFIX = 0
    # A Redis that stops answering holds a request at most this long before the limits count in memory.
    RATELIMIT_STORAGE_OPTIONS = {"socket_timeout": 0.5, "socket_connect_timeout": 0.5}
    # Co-organizer invitations are mail to any address: a per-account budget keeps them from being a mail cannon.
    INVITE_RATE_LIMIT = "20 per day"

    # Mail safety (issue 11): a stalled mail server never holds a page, no header can be injected,
    # and nobody can turn the site into a mail cannon.
    MAIL_TIMEOUT = 10  # seconds an SMTP connect or reply may take before the attempt counts as a temporary failure
    # The outbox (issue 12): mail is stored with its transaction and sent by a worker.
    MAIL_WORKER = "thread"  # "thread": the web process sends (woken by commits); "process": only `flask mail work`
    MAIL_CLAIM_TIMEOUT = 300  # seconds after which a message claimed by a worker that died is queued again
    MAIL_RETRY_SECONDS = 30  # first delay after a temporary failure; doubled each time, with jitter
    MAIL_RETRY_MAX_SECONDS = 3600  # the longest delay between two attempts
    MAIL_MAX_ATTEMPTS = 15  # temporary failures after which a message is marked failed
    MAIL_POLL_SECONDS = 5  # how often `flask mail work` looks for due messages
    SELF_SERVICE_ADDRESS_LIMIT = "3 per day"  # self-service mails per address, whoever asks (same page answers)
    IMPORT_INVITE_DAILY_LIMIT = 500  # invitation mails an account, and an appeal, may send by import in 24 hours
    IMPORT_INVITE_NEW_ACCOUNT_LIMIT = 50  # the same for accounts younger than IMPORT_NEW_ACCOUNT_DAYS
    IMPORT_NEW_ACCOUNT_DAYS = 7

    # Background work (petitions/jobs/; issue 12): one queue for mail notices, PDF renders, reminders, signer
    # updates and periodic work. The jobs table is the source of truth under both backends.
    JOBS_BACKEND = "database"  # "database": a thread in the web process or `flask jobs work`; "rq": Redis queues
    JOBS_WORKER = "thread"  # database backend: "thread" (the web process runs jobs) or "process" (`flask jobs work`)
    REDIS_URL = None  # redis://host:6379/0, needed by JOBS_BACKEND = "rq"
    JOBS_QUEUE = "petitions"  # the RQ queue's name (`rq worker petitions`)
    JOBS_REDIS_TIMEOUT = 2.0  # seconds a push to Redis may take before the job waits for the sweep instead
    JOBS_REDIS_RETRY_SECONDS = 5.0  # after a failed push, requests skip Redis this long (rows wait for the sweep)
    JOBS_POLL_SECONDS = 5  # how often `flask jobs work` sweeps the table (stale claims, pushes that never arrived)
    JOBS_STALE_SECONDS = 900  # a job running this long without finishing is queued again (its runner died)
    JOBS_REPUSH_SECONDS = 60  # rq: a due job still queued this long after it was due is pushed again
    JOBS_MAX_ATTEMPTS = 5  # failures after which a job is marked failed (retried with backoff before)
    JOBS_KEEP_DAYS = 7  # finished jobs are deleted after this many days
    # Periodic tasks `flask jobs tick` enqueues, each at most once per this many seconds.
    JOBS_EVERY = {"appeals.close_due": 60, "jobs.reap": 300, "privacy.purge": 86400, "pdf.prune": 86400}
    JOBS_TICK_SECONDS = 60  # rq: `flask jobs work` keeps a `jobs.tick` job scheduled this often (enqueue_in)
    ANNOUNCE_BATCH = 500  # signer updates are mailed in jobs of this many signers each
    REMIND_BATCH = 500  # reminders are mailed in jobs of this many signers each
    # Pages whose cost does not grow with the list (issue 16): counts kept on the appeal, lists read by keyset,
    # HTTP caching and a rendered-page cache for readers who are not logged in (petitions/cache.py).
    PUBLIC_LATEST_SIGNATORIES = 20  # signatories the appeal page shows (the newest); the rest on its list pages
    SIGNATORIES_PAGE_SIZE = 100  # entries per page of /a/<slug>/signatories
    ORGANIZER_LATEST_SIGNATORIES = 50  # signatories the organizer's appeal page shows (the queue has them all)
    PUBLIC_MAX_AGE = 30  # seconds browsers and proxies may reuse a public page or API answer unasked
    PAGE_CACHE_URL = None  # redis://… shares rendered pages between processes; None: REDIS_URL, else in-process
    PAGE_CACHE_SECONDS = 600  # how long a rendered page is kept (its key changes with any change anyway)
    PAGE_FRESH_SECONDS = 2.0  # anonymous readers get a copy this young without any query (0: always check)
    # Sign requests read an appeal's trusted registry entries at most this often per process (0: every time).
    REGISTRY_FRESH_SECONDS = 2.0
    # A sign POST takes its appeal from a copy this young per process; the INSERT checks it (0: read every time).
    SIGN_APPEAL_FRESH_SECONDS = 2.0
    PAGE_CACHE_ENTRIES = 512  # pages the in-process cache keeps per worker, least recently used out first
    # The front page (appeals/views_public.py index): appeals per page, the furthest page, the longest search kept.
    BROWSE_PAGE_SIZE = 12
    BROWSE_MAX_PAGE = 500
    BROWSE_QUERY_MAX_CHARS = 200
    # Share images (appeals/share_image.py): their folder (None: share-images/ in the instance folder) and how
    # long browsers and link previews may keep one unasked (its address changes with what it shows anyway).
    SHARE_IMAGE_DIR = None
    SHARE_IMAGE_MAX_AGE = 86400
