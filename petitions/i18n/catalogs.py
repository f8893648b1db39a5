"""Interface catalogs: extract, init, update and compile, wrapping pybabel (`flask --app petitions translate ...`).

Also runs without the app (`python -m petitions.i18n.catalogs compile`), so the install step can
build the .mo files before any instance secrets exist.
"""
import os
import subprocess
import sys

import click

PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROOT = os.path.dirname(PACKAGE)
CATALOGS = os.path.join(PACKAGE, "i18n_catalogs")
POT = os.path.join(CATALOGS, "messages.pot")
BABEL_CFG = os.path.join(ROOT, "babel.cfg")


def _pybabel(*args: str) -> None:
    # The pybabel of this interpreter, so the venv's Babel and Jinja2 extractor are used.
    command = [sys.executable, "-m", "babel.messages.frontend", *args]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        raise click.ClickException(f"pybabel {args[0]} failed:\n{result.stderr.strip()}")


def extract(output: str = POT) -> str:
    """Write the template of every marked string (messages.pot) and return its path."""
    _pybabel("extract", "-F", BABEL_CFG, "-k", "_l", "--no-location", "--sort-output",
             "--project", "petitions", "--msgid-bugs-address", "-", "-o", output, ".")
    return output


def init(language: str) -> None:
    """Start a catalog for a new language."""
    extract()
    _pybabel("init", "-i", POT, "-d", CATALOGS, "-l", language)


def update() -> None:
    """Merge newly marked strings into every catalog (new ones come in untranslated)."""
    extract()
    # No fuzzy matching: a guessed translation that looks done is worse than an empty one.
    _pybabel("update", "-i", POT, "-d", CATALOGS, "--no-fuzzy-matching", "--ignore-obsolete")


def languages() -> list[str]:
    """Return the languages that have a catalog."""
    if not os.path.isdir(CATALOGS):
        return []
    return sorted(d for d in os.listdir(CATALOGS)
                  if os.path.isfile(os.path.join(CATALOGS, d, "LC_MESSAGES", "messages.po")))


def compile_catalogs(only_stale: bool = False) -> list[str]:
    """Build the .mo files from the .po files; return the languages compiled."""
    done = []
    for language in languages():
        po = os.path.join(CATALOGS, language, "LC_MESSAGES", "messages.po")
        mo = po[:-3] + ".mo"
        if only_stale and os.path.exists(mo) and os.path.getmtime(mo) >= os.path.getmtime(po):
            continue
        _pybabel("compile", "-d", CATALOGS, "-l", language, "--statistics")
        done.append(language)
    return done


@click.group("translate")
def translate_command():
    """Extract, start, update and compile the interface catalogs."""


@translate_command.command("extract")
def extract_command():
    """Write petitions/i18n_catalogs/messages.pot from the marked strings."""
    click.echo(f"Wrote {extract()}")


@translate_command.command("init")
@click.argument("language")
def init_command(language: str):
    """Start the catalog of a new language."""
    init(language)
    click.echo(f"Started {language}; add it to LANGUAGES in petitions/config.py.")


@translate_command.command("update")
def update_command():
    """Bring every catalog up to date with the marked strings."""
    update()
    click.echo(f"Updated {', '.join(languages())}.")


@translate_command.command("compile")
def compile_command():
    """Build the .mo files."""
    click.echo(f"Compiled {', '.join(compile_catalogs()) or 'nothing'}.")


if __name__ == "__main__":
    translate_command()
