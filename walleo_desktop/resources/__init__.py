"""Files the app loads at run time: its icon (``icons/``) and compiled translations
(``translations/*.qm``). Their sources live in the repository's ``resources/`` folder; see
``resources/render_icons.py`` and ``resources/update_translations.sh``."""
