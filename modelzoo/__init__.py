"""modelzoo: compiled Keras 3 models behind a registry, and one trainer for all.

Importing `modelzoo` does not import Keras or TensorFlow; they load on the
first call that needs them (`build`, `Trainer`, `load_dataset`, ...).

Example:

```python
import modelzoo

modelzoo.list_models()            # ['autoencoder', 'cnn', 'lstm']
model = modelzoo.build("cnn")     # a compiled keras.Model
result = modelzoo.train_model("cnn", epochs=2)
print(result.metrics["test_accuracy"], result.run_dir)
```
"""

from modelzoo.errors import (
    ConfigError,
    DataFormatError,
    DataNotFoundError,
    DeviceError,
    InputError,
    KerasVersionError,
    ModelzooError,
    RegistryError,
    UnknownModelError,
)
from modelzoo.models import ModelSpec, build, get_spec, list_models, register_model, unregister_model

__version__ = "0.1.0"

# Names served by __getattr__ so that `import modelzoo` stays light.
_LAZY_ATTRIBUTES = {
    "Trainer": "modelzoo.trainer",
    "TrainResult": "modelzoo.trainer",
    "train_model": "modelzoo.trainer",
    "load_config": "modelzoo.config",
    "Config": "modelzoo.config",
    "load_dataset": "modelzoo.data",
    "DatasetInfo": "modelzoo.data",
    "check_arrays": "modelzoo.checks",
}


def __getattr__(name):
    module_name = _LAZY_ATTRIBUTES.get(name)
    if module_name is None:
        raise AttributeError(f"module 'modelzoo' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module_name), name)


__all__ = [
    "ConfigError",
    "DataFormatError",
    "DataNotFoundError",
    "DeviceError",
    "InputError",
    "KerasVersionError",
    "ModelSpec",
    "ModelzooError",
    "RegistryError",
    "UnknownModelError",
    "build",
    "get_spec",
    "list_models",
    "register_model",
    "unregister_model",
    *_LAZY_ATTRIBUTES,
]
