"""Typed errors raised by the library; only the CLI turns them into exit codes."""
from __future__ import annotations


class MtqcError(Exception):
    """Base class: the message says what was expected, what was found, and the fix."""


class InputError(MtqcError):
    """The article cannot be checked (missing, empty, binary, not UTF-8, not English, too big)."""


class GlossaryError(MtqcError):
    """A glossary file cannot be read or is malformed."""


class EngineError(MtqcError):
    """A back-translation engine cannot run."""


class LlmError(EngineError):
    """The LLM server cannot be used: unreachable, key refused, unknown model, budget spent.

    Messages name the server (without credentials) and never the API key.
    """


class TransientEngineError(EngineError):
    """An engine failed for a reason that may pass (a server error, a rate limit, a timeout, a
    spent time budget): the article was not judged, and a later run should try it again."""


class ModelNotFoundError(EngineError):
    """A model is neither in the models directory, nor in the HF cache, nor downloadable."""


class ReportError(MtqcError):
    """A report cannot be written."""


class UsageError(MtqcError):
    """Options that make no sense together."""


class CalibrationError(MtqcError):
    """A calibration file cannot be read, or annotated data cannot be calibrated on."""


class GoldError(MtqcError):
    """An annotation folder or file is missing or not in the annotation format."""


class CacheError(MtqcError):
    """The translation cache cannot be cleared (read-only, or not ours to remove)."""


class ReviewError(MtqcError):
    """A review file (an editor's decisions, exported from the HTML report) is missing or malformed."""


class ExecutorError(MtqcError):
    """A batch cannot start its workers (Ray missing, a cluster that cannot be reached)."""
