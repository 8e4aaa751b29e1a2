"""Configuration comes from the environment, typed by its default, and never connects on load."""
from shared.config import coerce, load_config


def test_coerce_by_default_type():
    assert coerce("42", 1) == 42
    assert coerce("yes", False) is True
    assert coerce("0", True) is False
    assert coerce("a, b,,c", ()) == ("a", "b", "c")
    assert coerce("x", "") == "x"


def test_environment_then_overrides(monkeypatch, tmp_path):
    monkeypatch.setenv("DB_POOL_MAX", "9")
    monkeypatch.setenv("INTERNAL_TOKENS", "t1,t2")
    monkeypatch.setenv("KEYS_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    config = load_config("some_db", {"OWN": 5}, {"OWN": 6})
    assert config["DB_POOL_MAX"] == 9
    assert config["OWN"] == 6
    assert config["INTERNAL_TOKENS"] == ("t1", "t2")
    assert config["INTERNAL_TOKEN"] == "t1"
    assert config["DATABASE_URL"].endswith("/some_db")


def test_internal_token_falls_back_to_key_file(monkeypatch, tmp_path):
    (tmp_path / "internal_token").write_text("from-file\n")
    monkeypatch.delenv("INTERNAL_TOKENS", raising=False)
    monkeypatch.delenv("INTERNAL_TOKEN", raising=False)
    config = load_config("x", {}, {"KEYS_DIR": str(tmp_path)})
    assert config["INTERNAL_TOKENS"] == ("from-file",)


def test_production_raises_every_services_minimum_key_size(monkeypatch, tmp_path):
    monkeypatch.setenv("KEYS_DIR", str(tmp_path))
    monkeypatch.setenv("MIN_KEY_BITS", "1024")
    assert load_config("svc", {"MIN_KEY_BITS": 2048})["MIN_KEY_BITS"] == 1024  # outside production: as set
    monkeypatch.setenv("PRODUCTION", "true")
    assert load_config("svc", {"MIN_KEY_BITS": 2048})["MIN_KEY_BITS"] == 2048
    assert load_config("svc", {"MIN_KEY_BITS": 2048}, {"MIN_KEY_BITS": 4096})["MIN_KEY_BITS"] == 4096
    assert "MIN_KEY_BITS" not in load_config("svc", {})  # a service without keys gets no setting
