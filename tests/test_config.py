"""Config schema, YAML files and override precedence."""

import sys
import subprocess

import pytest

from modelzoo.cli import build_train_parser, config_from_args
from modelzoo.config import Config, list_config_files, load_config
from modelzoo.errors import ConfigError


def test_every_model_default_config_validates():
    for name in ("cnn", "lstm", "autoencoder"):
        config = load_config(name)
        assert isinstance(config, Config)
        assert config.model.name == name


def test_shipped_configs_are_listed():
    assert {"cnn.yaml", "lstm.yaml", "autoencoder.yaml"} <= set(list_config_files())


def test_unknown_key_suggests_closest():
    with pytest.raises(ConfigError) as raised:
        load_config({"training": {"epoch": 3}})

    message = str(raised.value)
    assert "Unknown config key 'training.epoch'" in message
    assert "Did you mean 'training.epochs'?" in message


def test_unknown_section_is_rejected():
    with pytest.raises(ConfigError, match="Unknown config key 'trainig'"):
        load_config({"trainig": {}})


def test_wrong_type_names_key_and_type():
    with pytest.raises(ConfigError) as raised:
        load_config({"training": {"batch_size": "large"}})

    assert "'training.batch_size' must be of type int" in str(raised.value)
    assert "received 'large' (str)" in str(raised.value)


def test_bool_is_not_an_integer():
    with pytest.raises(ConfigError, match="'training.epochs' must be of type int"):
        load_config({"training": {"epochs": True}})


@pytest.mark.parametrize(
    "key, value, allowed",
    [
        ("training.epochs", 0, "1 <= value"),
        ("training.batch_size", 0, "1 <= value"),
        ("optimizer.learning_rate", -0.1, "0.0 < value"),
        ("data.validation_fraction", 1.5, "0.0 <= value < 1.0"),
    ],
)
def test_out_of_range_values_show_allowed_range(key, value, allowed):
    with pytest.raises(ConfigError) as raised:
        load_config("cnn", overrides=[f"{key}={value}"])

    assert f"'{key}'" in str(raised.value)
    assert allowed in str(raised.value)


def test_choice_lists_allowed_values():
    with pytest.raises(ConfigError, match="'training.device' must be one of 'auto', 'cpu', 'gpu'"):
        load_config("cnn", overrides=["training.device=tpu"])


def test_yaml_then_flags_then_set(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text("model: {name: cnn}\ntraining: {epochs: 7, batch_size: 32, seed: 5}\n")
    args = build_train_parser().parse_args(
        [str(path), "--epochs", "3", "--batch-size", "64", "--set", "training.batch_size=16"]
    )
    config = config_from_args(args)

    assert config.training.seed == 5          # from the file
    assert config.training.epochs == 3        # flag over file
    assert config.training.batch_size == 16   # --set over flag


def test_override_value_parsed_as_yaml():
    config = load_config("cnn", overrides=["model.args={dropout: 0.25, filters: [8, 16]}",
                                           "data.data_dir=/tmp/somewhere"])

    assert config.model.args == {"dropout": 0.25, "filters": [8, 16]}
    assert config.data.data_dir == "/tmp/somewhere"


def test_malformed_override_is_rejected():
    with pytest.raises(ConfigError, match="expected key.sub=value"):
        load_config("cnn", overrides=["training.epochs"])


def test_resolved_config_round_trips_through_yaml(tmp_path):
    config = load_config("cnn", overrides=["training.epochs=2"])
    path = tmp_path / "config.yaml"
    path.write_text(config.to_yaml())

    assert load_config(path) == config


def test_yaml_with_python_tags_is_rejected(tmp_path):
    path = tmp_path / "evil.yaml"
    path.write_text("model: !!python/object/apply:os.system ['echo unsafe']\n")

    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(path)


def test_validation_does_not_import_tensorflow():
    code = (
        "import sys\n"
        "from modelzoo.config import load_config\n"
        "from modelzoo.errors import ConfigError\n"
        "load_config('cnn')\n"
        "try:\n"
        "    load_config({'training': {'epochs': 0}})\n"
        "except ConfigError:\n"
        "    pass\n"
        "print('tensorflow' in sys.modules, 'keras' in sys.modules)\n"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)

    assert output.stdout.strip() == "False False"
