from inspect_helpers import one_thread  # noqa: F401  (autouse fixture)
