"""Loading saved `.keras` models, including the custom layers of modelzoo."""

from __future__ import annotations

import logging
import zipfile
from pathlib import Path

from modelzoo.errors import ModelFileError

logger = logging.getLogger(__name__)


def load_model(path: str | Path, *, compile: bool = True):
    """Load a `.keras` file, such as a run's `model.keras`, with Keras safe mode on.

    The builder modules of all registered models are imported first, so
    the custom classes they register (`modelzoo>Sampling`,
    `modelzoo>KLDivergence`) load without `custom_objects`. Safe mode rejects files
    that would run arbitrary code, such as `Lambda` layers holding Python
    bytecode.

    Args:
        path: Path of a `.keras` file.
        compile: Restore the optimizer, loss and metrics as saved.

    Returns:
        The loaded `keras.Model`.

    Raises:
        ModelFileError: The file is missing, is not a `.keras` archive, or
            Keras cannot deserialize it.
    """
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(
            f"Model file not found: {path}. Pass the path of a .keras file, such as "
            "runs/<model>/<timestamp>/model.keras."
        )
    if path.suffix != ".keras":
        raise ModelFileError(
            f"Model file {path} has the suffix {path.suffix!r}; modelzoo.load_model reads "
            "Keras 3 '.keras' archives. Save the model with model.save('name.keras')."
        )

    if not zipfile.is_zipfile(path):
        raise ModelFileError(
            f"Model file {path} is not a valid .keras archive: it is not a zip file. The "
            "file may be truncated or in another format; save the model again."
        )

    import keras

    from modelzoo.models import get_spec, list_models

    # Importing every builder module registers the custom Keras classes
    # they define, such as the VAE's layers.
    for name in list_models():
        get_spec(name).resolve_builder()

    try:
        model = keras.saving.load_model(path, compile=compile, safe_mode=True)
    except zipfile.BadZipFile as error:
        raise ModelFileError(
            f"Model file {path} is not a valid .keras archive: {error}. The file may be "
            "truncated; save the model again."
        ) from error
    except (ValueError, TypeError) as error:
        raise ModelFileError(
            f"Could not load model file {path}: {error}. If the model uses custom layers "
            "of your own, import the module that registers them before loading."
        ) from error
    logger.info("Loaded model %s from %s", model.name, path)
    return model
