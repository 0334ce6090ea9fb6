#!/usr/bin/env bash
# Regenerate the translations: extract every translatable text of walleo_desktop/ui/*.py into
# resources/translations/walleo_<lang>.ts (pyside6-lupdate; existing translations are kept, new
# texts come in as "unfinished", texts no longer used are dropped), then compile each .ts into
# walleo_desktop/resources/translations/walleo_<lang>.qm (pyside6-lrelease), which the app loads.
#
#   resources/update_translations.sh            (uses .venv/bin/python, else python3)
#
# Then translate the new texts (Qt Linguist: pyside6-linguist resources/translations/walleo_fr.ts,
# or any editor), run this script again to compile, and commit the .ts and the .qm together.
# tests/test_i18n.py fails while a text has no translation or the .qm is older than the .ts.
set -euo pipefail
cd "$(dirname "$0")/.."
python="${PYTHON:-.venv/bin/python}"
[ -x "$python" ] || python=python3
exec "$python" resources/translations/messages.py "$@"
