"""One short real training run of each sequence config, through the trainer and the CLI."""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from modelzoo.config import load_config
from modelzoo.errors import ConfigError
from modelzoo.trainer import Trainer

RUN_FILES = {"config.yaml", "model.keras", "history.csv", "metrics.json", "curves.png",
             "train.log", "tensorboard"}

# Each config on a small real subset: overrides that keep a run to seconds.
# lstm.yaml runs through the command line in test_cli_trains_lstm_on_forda.
SMOKE = {
    "fcn_forda.yaml": ["data.train_subset=64", "data.test_subset=32"],
    "lstm_fcn_forda.yaml": ["data.train_subset=64", "data.test_subset=32"],
    "lstm_sequential_mnist.yaml": ["data.train_subset=128", "data.test_subset=64"],
    "lstm_imdb.yaml": ["data.train_subset=96", "data.test_subset=32",
                       "data.vocab_size=2000", "model.args.vocab_size=2000"],
}


def smoke_config(name, tmp_path, data_dir, extra=()):
    overrides = SMOKE[name] + [
        "training.epochs=1", "training.batch_size=32", "training.verbose=0",
        f"data.data_dir={data_dir}", f"output.dir={tmp_path}", "callbacks.tensorboard=true",
        *extra,
    ]
    return load_config(name, overrides=overrides)


@pytest.mark.parametrize("name", sorted(SMOKE))
def test_config_trains_one_epoch(name, tmp_path, data_dir):
    result = Trainer(smoke_config(name, tmp_path, data_dir)).run()
    files = {path.name for path in result.run_dir.iterdir()}
    assert RUN_FILES <= files
    metrics = json.loads((result.run_dir / "metrics.json").read_text())
    assert 0.0 <= metrics["test_accuracy"] <= 1.0
    assert np.isfinite(metrics["test_loss"])
    assert metrics["epochs_run"] == 1
    if name in ("fcn_forda.yaml", "lstm_fcn_forda.yaml"):
        check_label_mapping(result)
    if name == "lstm_imdb.yaml":
        check_raw_string_scoring(result)


def check_label_mapping(result):
    labels = json.loads((result.run_dir / "labels.json").read_text())
    assert labels["label_map"] == {"-1": 0, "1": 1}
    assert labels["class_names"] == ["-1", "1"]
    assert result.metrics["dataset"]["label_map"] == {"-1": 0, "1": 1}


def check_raw_string_scoring(result):
    from modelzoo.data.imdb import score_texts

    assert (result.run_dir / "vocabulary.txt").is_file()
    texts = ["A wonderful film.<br />Loved it.", "Dull, awful."]
    model = keras.models.load_model(result.run_dir / "model.keras")
    scores = score_texts(model, result.run_dir, texts)
    assert scores.shape == (2,)
    assert np.all((scores >= 0.0) & (scores <= 1.0))
    expected = result.model.predict(_ids(result.run_dir, texts), verbose=0)[:, 0]
    np.testing.assert_allclose(scores, expected, rtol=1e-5)


def _ids(run_dir, texts):
    from modelzoo.data.imdb import clean_review, load_text_vectorizer, vectorize

    return vectorize(load_text_vectorizer(run_dir), [clean_review(text) for text in texts])


def test_class_count_mismatch(tmp_path, data_dir):
    config = smoke_config("lstm_fcn_forda.yaml", tmp_path, data_dir,
                          ["data.dataset=ucr/ECG5000", "model.args.input_shape=[140, 1]"])
    with pytest.raises(ConfigError, match="'ucr/ECG5000' has 5 classes.*num_classes to 5"):
        Trainer(config).run()


def test_cli_trains_lstm_on_forda(tmp_path, data_dir):
    env = {**os.environ, "MODELZOO_DATA_DIR": str(data_dir)}
    command = [sys.executable, "-m", "modelzoo.train", "lstm", "--epochs", "1",
               "--output-dir", str(tmp_path), "--set", "data.train_subset=32",
               "--set", "data.test_subset=16", "--set", "training.verbose=0"]
    completed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr[-2000:]
    (run_dir,) = (tmp_path / "lstm").iterdir()
    assert RUN_FILES | {"labels.json"} <= {path.name for path in run_dir.iterdir()}
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["dataset"]["name"] == "ucr/FordA"
    # configs/lstm.yaml folds the 500 values into 50 steps of 10.
    assert metrics["dataset"]["input_shape"] == [50, 10]


def test_cli_reports_bad_ucr_file(tmp_path, capsys):
    from modelzoo.cli import main

    folder = tmp_path / "ucr" / "Broken"
    folder.mkdir(parents=True)
    (folder / "Broken_TRAIN.tsv").write_text("1\t0.5\t0.7\n2\t0.1\n")
    (folder / "Broken_TEST.tsv").write_text("1\t0.5\t0.7\n")
    status = main(["train", "lstm", "--dataset", "ucr/Broken", "--data-dir", str(tmp_path),
                   "--output-dir", str(tmp_path / "runs")])
    stderr = capsys.readouterr().err
    assert status == 2
    assert "error: " in stderr
    assert "Broken_TRAIN.tsv, line 2: 1 values, but line 1 has 2" in stderr
    assert "Traceback" not in stderr


def test_padded_data_without_mask_warns(tmp_path, caplog):
    import modelzoo
    from modelzoo.data import load_dataset
    from modelzoo.data.run_files import check_model_fits_data

    path = tmp_path / "ragged.csv"
    path.write_text("".join(f"{row % 2},{','.join(['0.5'] * (3 + row % 4))}\n" for row in range(20)))
    info = load_dataset(f"csv:{path}", options={"pad_value": -1.0}).info
    unmasked = modelzoo.build("lstm", input_shape=(6, 1), units=(4,))
    check_model_fits_data(unmasked, info, task="sequence_classification")
    assert "pads shorter sequences with -1.0, but the model masks no value" in caplog.text
    assert "Set model.args.mask_value to -1.0" in caplog.text
    caplog.clear()
    masked = modelzoo.build("lstm", input_shape=(6, 1), units=(4,), mask_value=-1.0)
    check_model_fits_data(masked, info, task="sequence_classification")
    assert "pads shorter sequences" not in caplog.text
