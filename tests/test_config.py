import pytest

from locdetect_worker.config import ConfigError, load_settings
from locdetect_worker.jobs import job_id_for_key


def test_defaults_are_documented_values(monkeypatch):
    for name in ("LOCDETECT_QUEUE_URL", "LOCDETECT_BACKEND", "LOCDETECT_INPUT_PREFIX"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings(_env_file=None)
    assert settings.backend == "local"
    assert settings.input_prefix == "blueprints/"
    assert settings.visibility_timeout == 120


def test_local_concurrency_keeps_detectors_fed(monkeypatch):
    monkeypatch.setenv("LOCDETECT_WORKERS", "2")
    settings = load_settings(_env_file=None)
    # Until a refill, half the slots stay held: a job in every detector and a fetched one
    # behind each, so a detector finishing does not wait for a receive and a download.
    assert settings.effective_concurrency // 2 >= 2 * settings.effective_workers


def test_environment_is_read_with_the_prefix(monkeypatch):
    monkeypatch.setenv("LOCDETECT_QUEUE_URL", "https://sqs.eu-west-1.amazonaws.com/1/q")
    monkeypatch.setenv("LOCDETECT_CONCURRENCY", "7")
    monkeypatch.setenv("LOCDETECT_BACKEND", "sagemaker")
    settings = load_settings(_env_file=None)
    assert settings.queue_url.endswith("/q")
    assert settings.effective_concurrency == 7
    assert settings.backend == "sagemaker"


@pytest.mark.parametrize(
    "name, value, fragment",
    [
        ("LOCDETECT_BACKEND", "gpu", "LOCDETECT_BACKEND"),
        ("LOCDETECT_CONCURRENCY", "-1", "LOCDETECT_CONCURRENCY"),
        ("LOCDETECT_VISIBILITY_TIMEOUT", "50000", "LOCDETECT_VISIBILITY_TIMEOUT"),
        ("LOCDETECT_WAIT_TIME_SECONDS", "21", "LOCDETECT_WAIT_TIME_SECONDS"),
        ("LOCDETECT_LOG_FORMAT", "xml", "LOCDETECT_LOG_FORMAT"),
        ("LOCDETECT_INPUT_PREFIX", "blueprints", "LOCDETECT_INPUT_PREFIX"),
    ],
)
def test_invalid_values_name_the_setting(monkeypatch, name, value, fragment):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=fragment):
        load_settings(_env_file=None)


@pytest.mark.parametrize(
    "values, fragment",
    [
        ({"visibility_timeout": 30, "heartbeat_interval": 20}, "LOCDETECT_HEARTBEAT_INTERVAL"),
        ({"health_max_age": 30, "wait_time_seconds": 20}, "LOCDETECT_HEALTH_MAX_AGE"),
    ],
)
def test_settings_that_cannot_work_together_are_refused(values, fragment):
    with pytest.raises(ConfigError, match=fragment):
        load_settings(_env_file=None, **values)


def test_daemon_requires_queue_and_bucket(monkeypatch):
    monkeypatch.delenv("LOCDETECT_QUEUE_URL", raising=False)
    monkeypatch.delenv("LOCDETECT_RESULTS_BUCKET", raising=False)
    with pytest.raises(ConfigError, match="LOCDETECT_QUEUE_URL, LOCDETECT_RESULTS_BUCKET"):
        load_settings(_env_file=None).require_daemon_settings()


def test_sagemaker_backend_requires_endpoint_and_outcomes_queue():
    settings = load_settings(_env_file=None, queue_url="q", results_bucket="b", backend="sagemaker")
    with pytest.raises(ConfigError, match="LOCDETECT_SAGEMAKER_ENDPOINT"):
        settings.require_daemon_settings()


@pytest.mark.parametrize(
    "key, job_id",
    [
        ("blueprints/site-a/level-2.png", "site-a/level-2"),
        ("blueprints/plan.v2.pdf", "plan.v2"),
        ("blueprints/noext", "noext"),
        ("elsewhere/x.png", "elsewhere/x"),
    ],
)
def test_job_id_from_key(key, job_id):
    assert job_id_for_key(key, "blueprints/") == job_id
