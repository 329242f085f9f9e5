"""The model registry: names, builders and metadata, readable without Keras.

A registered model is a `ModelSpec`. Its builder is either a callable or a
`"module:function"` string that is imported on the first `build`, so listing
models and validating configs never imports Keras or TensorFlow.
"""

from __future__ import annotations

import dataclasses
import difflib
import fnmatch
import importlib
from typing import Any, Callable

from modelzoo.errors import RegistryError, UnknownModelError


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """Metadata of a registered model.

    Attributes:
        name: Registry name, as passed to `modelzoo.build`.
        builder: The builder function, or `"module:function"` to import lazily.
        task: What the model does, e.g. `"image_classification"`.
        input_shape: Input shape of the default build, without the batch axis.
        dataset: Name of the data set its default config trains on.
        params: Parameter count of the default build; a test checks it.
        description: One line for `modelzoo list`.
        config: File name of its default config under `configs/`.
    """

    name: str
    builder: Callable[..., Any] | str
    task: str
    input_shape: tuple[int | None, ...]
    dataset: str
    params: int
    description: str = ""
    config: str | None = None

    def resolve_builder(self) -> Callable[..., Any]:
        """Import the builder if it was registered as a string, then return it."""
        if callable(self.builder):
            return self.builder
        module_name, _, attribute = self.builder.partition(":")
        module = importlib.import_module(module_name)
        return getattr(module, attribute)


_REGISTRY: dict[str, ModelSpec] = {}


def register(spec: ModelSpec) -> ModelSpec:
    """Add `spec` to the registry; a name can be registered only once."""
    if spec.name in _REGISTRY:
        raise RegistryError(
            f"Model name {spec.name!r} is already registered "
            f"(builder {_describe_builder(_REGISTRY[spec.name].builder)}). "
            "Choose another name, or call unregister_model() first to replace it."
        )
    _REGISTRY[spec.name] = spec
    return spec


def register_model(
    name: str,
    *,
    task: str,
    input_shape: tuple[int | None, ...],
    dataset: str,
    params: int,
    description: str = "",
    config: str | None = None,
):
    """Register the decorated builder under `name`.

    Example:

    ```python
    @modelzoo.register_model("tiny_cnn", task="image_classification",
                             input_shape=(28, 28, 1), dataset="mnist",
                             params=7_850)
    def tiny_cnn(*, num_classes=10):
        ...
    ```
    """

    def decorator(builder):
        register(
            ModelSpec(
                name=name,
                builder=builder,
                task=task,
                input_shape=tuple(input_shape),
                dataset=dataset,
                params=params,
                description=description or _first_docstring_line(builder),
                config=config,
            )
        )
        return builder

    return decorator


def unregister_model(name: str) -> ModelSpec:
    """Remove `name` from the registry and return its spec."""
    get_spec(name)
    return _REGISTRY.pop(name)


def get_spec(name: str) -> ModelSpec:
    """Return the spec registered as `name`, or raise `UnknownModelError`."""
    try:
        return _REGISTRY[name]
    except KeyError:
        pass
    known = sorted(_REGISTRY)
    close = difflib.get_close_matches(str(name), known, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise UnknownModelError(
        f"Unknown model {name!r}.{hint} Known models: {', '.join(known)}. "
        "Built-in models are registered in modelzoo.models; "
        "register your own with modelzoo.register_model."
    )


def list_models(pattern: str = "*") -> list[str]:
    """Return the sorted names of registered models that match a glob `pattern`."""
    return sorted(name for name in _REGISTRY if fnmatch.fnmatch(name, pattern))


def build(name: str, **kwargs):
    """Build the registered model `name`, passing `kwargs` to its builder.

    Returns:
        A compiled `keras.Model`.
    """
    builder = get_spec(name).resolve_builder()
    return builder(**kwargs)


def _describe_builder(builder) -> str:
    if isinstance(builder, str):
        return builder
    return f"{builder.__module__}:{builder.__qualname__}"


def _first_docstring_line(function) -> str:
    lines = (function.__doc__ or "").strip().splitlines()
    return lines[0] if lines else ""
