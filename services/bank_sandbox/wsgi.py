"""gunicorn entry: ``gunicorn bank_sandbox.wsgi:app``."""
from bank_sandbox.bootstrap import create_app

app = create_app()
