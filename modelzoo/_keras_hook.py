"""Register modelzoo's custom Keras classes as soon as Keras is imported.

`import modelzoo` does not import Keras, so `modelzoo list` and `--help` stay
fast. But `keras.saving.load_model` finds custom layers in a `.keras` file
only by their registered names (such as `"modelzoo>Sampling"`), so those
classes must be registered before a model is loaded. `install()` registers
them at once when Keras is already imported; otherwise it puts a finder on
`sys.meta_path` that registers them right after the `keras` module has
finished executing, whenever and by whomever it is imported.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import logging
import sys

logger = logging.getLogger(__name__)

# Modules whose import registers Keras serializable classes.
REGISTERING_MODULES = ("modelzoo.models.vae",)


def register_keras_objects() -> None:
    """Import every module that registers modelzoo classes with Keras."""
    for module_name in REGISTERING_MODULES:
        importlib.import_module(module_name)


def install() -> None:
    """Register the classes now if Keras is loaded, else when it gets imported."""
    if "keras" in sys.modules:
        register_keras_objects()
    elif not any(isinstance(finder, _KerasImportFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _KerasImportFinder())


class _KerasImportFinder(importlib.abc.MetaPathFinder):
    """Wrap the loader of the top-level `keras` module to register classes after it runs."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "keras":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec("keras")
        if spec is None or spec.loader is None:
            return spec
        execute = spec.loader.exec_module

        def exec_module(module):
            execute(module)
            try:
                register_keras_objects()
            except ImportError as error:
                logger.warning("Could not register modelzoo's Keras classes: %s", error)

        spec.loader.exec_module = exec_module
        return spec
