"""gunicorn entry: ``gunicorn bank_sandbox.wsgi:app``."""
from bank_sandbox.app import create_app

app = create_app()
