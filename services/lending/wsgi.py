"""gunicorn entry: ``gunicorn lending.wsgi:app``."""
from lending.bootstrap import create_app

app = create_app()
