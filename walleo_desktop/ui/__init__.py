"""The desktop window (PySide6 on one qasync loop).

The window talks only to a ``walleo_desktop.engine.Session``: never HTTP, never SQL (import-linter
enforces it). One widget per module:

- ``app``: start-up (connection, session, window) and shutdown;
- ``main_window``: menus, splitter, wiring between the widgets and the engine;
- ``pull_form``: brand / amount / quantity / reference, confirmation, submission;
- ``pull_table_model`` / ``pull_table_view``: the live table fed by engine events, in batches;
- ``status_bar``: environment badge, connection state, pulls in flight;
- ``async_ops``: running coroutines from slots (trigger disabled, one in flight, errors shown once);
- ``icons``: the pull status icons.
"""
