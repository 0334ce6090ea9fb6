"""Secrets never reach a log: the redaction filter on the root handlers."""

from __future__ import annotations

import logging

from walleo_desktop.logs import register_secret, setup_logging


def test_registered_secrets_and_header_shapes_are_redacted(tmp_path):
    path = setup_logging(console=False, log_dir=tmp_path)
    assert path is not None
    api_key = "rKc1oJFfEzf0HRbNzLjcvEKijkAFfSL5BYhI-Usidd5PARuHZaSRAL_2eSPOZrT-"
    shared = "6F2CE47010CF4F79B9767042BAFB1EB4"
    register_secret(api_key, shared, "GIFT-AB12-CD34", "8224")
    log = logging.getLogger("walleo.test")
    log.warning("key=%s shared %s", api_key, shared)
    log.warning("card GIFT-AB12-CD34 pin '8224' number 4464579152302332603")
    log.warning("Authorization: Bearer %s, Id=x, Signature=%s, Timestamp=1", api_key, "ab12" * 16)
    try:
        raise ValueError(f"boom with {shared}")
    except ValueError:
        log.exception("failed")
    for handler in logging.getLogger().handlers:
        handler.flush()
    text = path.read_text("utf-8")
    for secret in (api_key, shared, "GIFT-AB12-CD34", "8224", "4464579152302332603", "ab12" * 16):
        assert secret not in text
    assert text.count("[redacted]") >= 8
    assert "boom with" in text  # the rest of the message survives
    assert (path.stat().st_mode & 0o777) == 0o600
    for handler in list(logging.getLogger().handlers):
        if getattr(handler, "_walleo", False):
            logging.getLogger().removeHandler(handler)
            handler.close()
