"""The PDF engine knows no Flask and no database: settings and words come in as arguments."""
import json
import os
import subprocess
import sys
import time

import pytest

from petitions.pdf.engine import chunks

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENGINE = os.path.join(ROOT, "petitions", "pdf", "engine")
MODULES = sorted(f"petitions.pdf.engine.{name[:-3]}" for name in os.listdir(ENGINE)
                 if name.endswith(".py") and name != "__init__.py")
FORBIDDEN = ("flask", "flask_babel", "flask_login", "flask_sqlalchemy", "flask_wtf", "sqlalchemy", "werkzeug")

# The packages above the engine are stand-ins: `petitions/__init__.py` is the Flask app factory.
PROBE = """
import importlib, json, sys, types
for name, path in (("petitions", {root!r}), ("petitions.pdf", {pdf!r})):
    package = types.ModuleType(name)
    package.__path__ = [path]
    sys.modules[name] = package
importlib.import_module({module!r})
print(json.dumps(sorted(n for n in sys.modules if n.split(".")[0] in {forbidden!r}
                        or (n.startswith("petitions.") and not n.startswith("petitions.pdf.engine")
                            and n != "petitions.pdf"))))
"""


@pytest.mark.parametrize("module", MODULES)
def test_engine_module_imports_neither_flask_nor_the_database(module):
    code = PROBE.format(root=os.path.join(ROOT, "petitions"), pdf=os.path.join(ROOT, "petitions", "pdf"),
                        module=module, forbidden=FORBIDDEN)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=False)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []


def test_unused_list_chunks_are_pruned_and_used_ones_kept_with_their_typeset_time(tmp_path):
    folder = str(tmp_path)
    for key in ("old-unused", "old-used", "new"):
        chunks.store(folder, chunks.Chunk(key, [b"page"], {1: {2: "x"}}))
    week_ago = time.time() - 8 * 86400
    for key in ("old-unused", "old-used"):
        os.utime(os.path.join(folder, f"{key}.chunk"), (week_ago, week_ago))
    assert chunks.load(folder, "old-used").pages == [b"page"]  # a render used it today
    typeset = os.stat(os.path.join(folder, "old-used.chunk")).st_mtime
    assert abs(typeset - week_ago) < 1  # still typeset a week ago: forget_since reads this
    assert chunks.prune_unused(folder, 7 * 86400) == 1
    assert sorted(os.listdir(folder)) == ["new.chunk", "old-used.chunk"]
