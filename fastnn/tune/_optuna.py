"""Lazy access to Optuna, the optional engine behind ``fastnn.tune``.

``import fastnn`` (and even ``import fastnn.tune``) never imports Optuna; the
search functions call :func:`require_optuna` when they run.
"""
import importlib

INSTALL_HINT = "pip install fastnn[tune]"


def require_optuna():
    """Returns the ``optuna`` module, or raises ImportError saying which extra to install."""
    try:
        return importlib.import_module("optuna")
    except ImportError as exc:
        raise ImportError(
            "fastnn.tune needs Optuna, an optional dependency: "
            f"install it with `{INSTALL_HINT}` (or `pip install optuna`)") from exc


def journal_file_storage(path):
    """An Optuna JournalStorage writing to the file *path*, whatever the Optuna version."""
    optuna = require_optuna()
    journal = optuna.storages.journal if hasattr(optuna.storages, "journal") else None
    backend_cls = getattr(journal, "JournalFileBackend", None) if journal else None
    if backend_cls is None:  # Optuna < 4.0
        backend_cls = optuna.storages.JournalFileStorage
    return optuna.storages.JournalStorage(backend_cls(str(path)))
