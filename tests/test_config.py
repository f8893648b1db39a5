"""Configuration order and refusal to start without secrets."""
import pytest

from petitions import ConfigError, create_app

from .conftest import base_config


def test_refuses_to_start_without_secret_key(tmp_path):
    config = base_config(tmp_path / "x.sqlite")
    del config["SECRET_KEY"]
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app(config)


def test_refuses_to_start_without_data_keys(tmp_path):
    config = {**base_config(tmp_path / "x.sqlite"), "DATA_KEYS": []}
    with pytest.raises(ConfigError, match="DATA_KEYS"):
        create_app(config)


def test_environment_overrides_defaults(tmp_path, monkeypatch):
    monkeypatch.setenv("FLASK_MAIL_PORT", "2526")
    monkeypatch.setenv("FLASK_MAIL_SERVER", "smtp.example.test")
    config = base_config(tmp_path / "x.sqlite")
    del config["MAIL_PORT"], config["MAIL_SERVER"]
    app = create_app(config)
    assert app.config["MAIL_PORT"] == 2526
    assert app.config["MAIL_SERVER"] == "smtp.example.test"


def test_instance_config_file_is_read(tmp_path, monkeypatch):
    from cryptography.fernet import Fernet

    instance = tmp_path / "inst"
    instance.mkdir()
    (instance / "config.py").write_text(
        f"SECRET_KEY = 'from-file'\nEMAIL_HASH_KEY = 'h'\nDATA_KEYS = [{Fernet.generate_key().decode()!r}]\n"
        f"SQLALCHEMY_DATABASE_URI = 'sqlite:///{tmp_path}/f.sqlite'\nMAIL_PORT = 2600\n"
    )
    monkeypatch.setenv("PETITIONS_INSTANCE_PATH", str(instance))
    monkeypatch.setenv("FLASK_MAIL_PORT", "2700")
    app = create_app()
    assert app.config["SECRET_KEY"] == "from-file"
    assert app.config["MAIL_PORT"] == 2700  # the environment wins over the file


def test_dev_outbox_is_off_by_default(client):
    assert client.get("/dev/outbox/").status_code == 404


def test_instance_setup_writes_keys_once(tmp_path):
    from petitions import instance_setup

    instance_setup.main(str(tmp_path))
    first = (tmp_path / "config.py").read_text()
    instance_setup.main(str(tmp_path))
    assert (tmp_path / "config.py").read_text() == first
    namespace: dict = {}
    exec(first, namespace)
    assert len(namespace["SECRET_KEY"]) == 64 and namespace["DATA_KEYS"]
