"""Exceptions that modelzoo raises for problems a user can fix.

Each one subclasses both `ModelzooError` and the built-in exception that fits
its kind, so `except ValueError` keeps working for callers who do not know
modelzoo. The command line prints the message of any `ModelzooError` as one
paragraph and exits with status 2, without a traceback.
"""


class ModelzooError(Exception):
    """Base class of the errors a user can fix by changing input or settings."""


class ConfigError(ModelzooError, ValueError):
    """Invalid configuration: an unknown key, a wrong type or a value out of range."""


class UnknownModelError(ModelzooError, KeyError):
    """A model name that is not in the registry."""

    def __str__(self):
        # KeyError's __str__ would wrap the message in quotes.
        return str(self.args[0]) if self.args else ""


class RegistryError(ModelzooError, ValueError):
    """An invalid registration, such as registering one name twice."""


class DataNotFoundError(ModelzooError, FileNotFoundError):
    """No local copy of a data set was found and it could not be downloaded."""


class DataFormatError(ModelzooError, ValueError):
    """A data file exists but its contents are malformed or corrupted."""


class DeviceError(ModelzooError, RuntimeError):
    """The requested device is not available."""


class InputError(ModelzooError, ValueError):
    """Training data that does not fit the model: shapes, pixel ranges, labels or sizes."""


class KerasVersionError(ModelzooError, TypeError):
    """An object or setting from tf_keras (Keras 2) where Keras 3 is needed."""
