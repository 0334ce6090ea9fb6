"""Walleo Desktop: issue, track and reconcile Walleo gift cards."""

__version__ = "0.1.0"
APP_NAME = "Walleo Desktop"
APP_ID = "io.walleo.Desktop"
