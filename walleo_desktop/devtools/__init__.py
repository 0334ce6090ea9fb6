"""Tools for developers and for trying features on one machine; never imported by the app.

``pgserver``: a throwaway PostgreSQL server (the tests' ``pg_server`` fixture,
``scripts/team-postgres.sh``). The import-linter contract "Nothing of the app imports the dev
tools" keeps api, store, engine, ui, cli and simulator away from this package.
"""
