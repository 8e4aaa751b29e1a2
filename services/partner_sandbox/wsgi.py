"""gunicorn entry: ``gunicorn partner_sandbox.wsgi:app``."""
from partner_sandbox.bootstrap import create_app

app = create_app()
