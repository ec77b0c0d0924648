"""Internals of ``fastnn.utils.data``: collation (``collate``) and the
worker processes (``worker``), laid out as ``torch.utils.data._utils``."""
