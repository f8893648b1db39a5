"""Write instance/config.py with fresh random keys, once: `python -m petitions.instance_setup DIR`."""
import os
import secrets
import sys

from cryptography.fernet import Fernet

TEMPLATE = '''\
# Written by `make instance` on first run. Keep this file secret and backed up:
# losing DATA_KEYS makes stored e-mail addresses unreadable.
SECRET_KEY = {secret!r}
EMAIL_HASH_KEY = {hash_key!r}
# Newest key first; keep old keys listed after it until `flask rotate` (later) re-encrypts.
DATA_KEYS = [{data_key!r}]

# Development defaults: mail is stored for the dev outbox page instead of being sent.
MAIL_TRANSPORT = "outbox"
DEV_OUTBOX = True
'''


def main(folder: str) -> int:
    """Create the config file unless it exists."""
    path = os.path.join(folder, "config.py")
    if os.path.exists(path):
        return 0
    os.makedirs(folder, exist_ok=True)
    text = TEMPLATE.format(secret=secrets.token_hex(32), hash_key=secrets.token_hex(32),
                           data_key=Fernet.generate_key().decode())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    print(f"Wrote {path} with new random keys.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "instance"))
