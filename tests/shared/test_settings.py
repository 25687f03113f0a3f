"""Settings from the environment."""

import pytest

from shared.settings import Settings, env_bool, env_int


def test_defaults() -> None:
    config = Settings.from_env({})
    assert config.project == "stratus-local"
    assert config.environment == "local" and config.is_local
    assert config.max_body_bytes == 1024 * 1024
    assert not config.access_log


def test_values_and_fallbacks() -> None:
    config = Settings.from_env(
        {
            "GOOGLE_CLOUD_PROJECT": "g",
            "STRATUS_ENV": "Production",
            "STRATUS_MAX_BODY_BYTES": "2048",
            "STRATUS_ACCESS_LOG": "yes",
            "K_SERVICE": "ingest",
        }
    )
    assert (config.project, config.environment, config.max_body_bytes) == ("g", "production", 2048)
    assert config.access_log and config.function == "ingest"
    assert Settings.from_env({"__OW_ACTION_NAME": "/ns/pkg/devices"}).function == "devices"


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"STRATUS_MAX_BODY_BYTES": "lots"}, "STRATUS_MAX_BODY_BYTES='lots' is not an integer"),
        ({"STRATUS_MAX_BODY_BYTES": "0"}, "must be at least 1"),
        # a body must fit one bus message with the bridge's batch around it
        ({"STRATUS_MAX_BODY_BYTES": "12000000"}, "must be at most 8000000"),
        ({"STRATUS_ACCESS_LOG": "maybe"}, "not a boolean"),
        ({"STRATUS_ENV": "staging"}, "must be 'local' or 'production'"),
    ],
)
def test_bad_values_name_the_variable(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Settings.from_env(environ)


def test_helpers() -> None:
    assert env_int({"N": " 7 "}, "N", 1) == 7
    assert env_int({}, "N", 1) == 1
    assert env_bool({"B": "off"}, "B", True) is False
