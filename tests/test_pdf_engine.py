"""The PDF engine knows no Flask and no database: settings and words come in as arguments."""
import json
import os
import subprocess
import sys

import pytest

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
